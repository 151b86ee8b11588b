using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Tests.Scoring;

/// <summary>Monotonicity properties over seeded random nodes and requests.</summary>
public sealed class CostPropertyTests : IDisposable
{
    private const int Cases = 500;
    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static RequestProfile RandomRequest(Random r) => new("llama-3.1-8b")
    {
        InputTokens = r.Next(0, 20_000),
        OutputTokens = r.Next(1, 4_000),
        PayloadBytes = r.NextInt64(0, 500_000_000),
        Urgency = (Urgency)r.Next(0, 3),
    };

    private static NodeCostFactors RandomLaptop(Random r, double percent, ChargeState state) =>
        ScorerFixture.Laptop("l", percent, state, state == ChargeState.Discharging ? -r.Next(1, 60) : r.Next(1, 60), cpu: r.NextDouble() * 0.9, watts: 5 + (r.NextDouble() * 60));

    [Fact]
    public void More_load_never_lowers_cost()
    {
        var r = new Random(1);
        for (int i = 0; i < Cases; i++)
        {
            RequestProfile request = RandomRequest(r);
            double low = r.NextDouble();
            double high = Math.Min(1, low + (r.NextDouble() * (1 - low)));
            int placed = r.Next(0, 5);
            CostCandidate a = ScorerFixture.Node("d", ScorerFixture.Desktop(cpu: low)) with { PlacedRequests = placed };
            CostCandidate b = ScorerFixture.Node("d", ScorerFixture.Desktop(cpu: high)) with { PlacedRequests = placed + r.Next(0, 3) };

            Assert.True(_f.Score(b, request).TotalDollars >= _f.Score(a, request).TotalDollars, $"case {i}");
        }
    }

    [Fact]
    public void Lower_battery_while_discharging_never_lowers_cost()
    {
        var r = new Random(2);
        for (int i = 0; i < Cases; i++)
        {
            RequestProfile request = RandomRequest(r) with { Urgency = Urgency.Interactive };
            int seed = r.Next();
            double high = 1 + (r.NextDouble() * 99);
            double low = high * r.NextDouble();
            CostBreakdown atHigh = _f.Score(ScorerFixture.Node("l", RandomLaptop(new Random(seed), high, ChargeState.Discharging)), request);
            CostBreakdown atLow = _f.Score(ScorerFixture.Node("l", RandomLaptop(new Random(seed), low, ChargeState.Discharging)), request);

            Assert.True(atLow.TotalDollars >= atHigh.TotalDollars, $"case {i}: {low:F1} % cost {atLow.TotalDollars} < {high:F1} % cost {atHigh.TotalDollars}");
        }
    }

    [Fact]
    public void A_higher_price_never_lowers_cost()
    {
        var r = new Random(3);
        for (int i = 0; i < 100; i++)
        {
            RequestProfile request = RandomRequest(r);
            double electricity = r.NextDouble();
            double perGigabyte = r.NextDouble() * 20;
            using var cheap = new ScorerFixture(o => { o.ElectricityDollarsPerKilowattHour = electricity; o.MeteredDollarsPerGigabyte = perGigabyte; });
            using var dear = new ScorerFixture(o => { o.ElectricityDollarsPerKilowattHour = electricity * 2; o.MeteredDollarsPerGigabyte = perGigabyte * 1.5; });
            NodeCostFactors node = ScorerFixture.Desktop(cpu: r.NextDouble()) with { Network = new NetworkFactors { Metered = Reading.Measured(r.Next(2) == 0, ScorerFixture.Now, "t") } };
            Assert.True(dear.Score(ScorerFixture.Node("d", node), request).TotalDollars >= cheap.Score(ScorerFixture.Node("d", node), request).TotalDollars);

            var api = new CostCandidate { TargetId = "api", Model = ScorerFixture.Model(), Price = new TokenPrice(r.NextDouble() * 10, r.NextDouble() * 30) };
            CostCandidate dearer = api with { Price = new TokenPrice(api.Price!.Value.InputDollarsPerMillionTokens + r.NextDouble(), api.Price.Value.OutputDollarsPerMillionTokens + r.NextDouble()) };
            Assert.True(_f.Score(dearer, request).TotalDollars >= _f.Score(api, request).TotalDollars);
        }
    }

    [Fact]
    public void A_longer_payload_on_a_metered_link_never_lowers_cost()
    {
        var r = new Random(4);
        NodeCostFactors tethered = ScorerFixture.Desktop() with { Network = new NetworkFactors { Metered = Reading.Measured(true, ScorerFixture.Now, "t") } };
        for (int i = 0; i < Cases; i++)
        {
            RequestProfile shortPayload = RandomRequest(r);
            RequestProfile longPayload = shortPayload with { PayloadBytes = shortPayload.PayloadBytes + r.NextInt64(1, 100_000_000) };
            CostCandidate node = ScorerFixture.Node("t", tethered);

            CostBreakdown a = _f.Score(node, shortPayload);
            CostBreakdown b = _f.Score(node, longPayload);

            Assert.True(b.TotalDollars >= a.TotalDollars);
            Assert.True(b.NetworkDollars > a.NetworkDollars);
        }
    }
}
