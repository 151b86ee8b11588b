using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Tests.Scoring;

/// <summary>The design review's questions, answered by the default prices.</summary>
public sealed class ReviewQuestionTests : IDisposable
{
    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    // A heavy request: a 4k-token prompt and a 1k-token answer.
    private static readonly RequestProfile Heavy = new("llama-3.1-8b") { InputTokens = 4_000, OutputTokens = 1_000, PayloadBytes = 20_000 };

    [Fact]
    public void Laptop_at_15_percent_draining_loses_a_heavy_request_to_an_AC_desktop_at_60_percent_CPU()
    {
        // Same model; the desktop is a little faster (a desktop CPU), but 60 % busy.
        CostCandidate laptop = ScorerFixture.Node("laptop", ScorerFixture.Laptop("laptop", 15, ChargeState.Discharging, -20, cpu: 0.1), ScorerFixture.Model(decode: 15, prefill: 150));
        CostCandidate desktop = ScorerFixture.Node("desktop", ScorerFixture.Desktop(cpu: 0.6), ScorerFixture.Model(decode: 30, prefill: 300));

        CostBreakdown onLaptop = _f.Score(laptop, Heavy);
        CostBreakdown onDesktop = _f.Score(desktop, Heavy);

        Assert.True(onLaptop.TotalDollars > onDesktop.TotalDollars,
            $"laptop {onLaptop.TotalDollars:F4} $ (energy {onLaptop.EnergyDollars:F4}) vs desktop {onDesktop.TotalDollars:F4} $");
        // The desktop is slower here (queueing at 60 %): the battery's price is what decides.
        Assert.True(onDesktop.LatencySeconds > onLaptop.LatencySeconds);
    }

    [Fact]
    public void The_same_laptop_at_80_percent_keeps_the_request()
    {
        CostCandidate laptop = ScorerFixture.Node("laptop", ScorerFixture.Laptop("laptop", 80, ChargeState.Discharging, -20, cpu: 0.1), ScorerFixture.Model(decode: 15, prefill: 150));
        CostCandidate desktop = ScorerFixture.Node("desktop", ScorerFixture.Desktop(cpu: 0.6), ScorerFixture.Model(decode: 30, prefill: 300));

        Assert.True(_f.Score(laptop, Heavy).TotalDollars < _f.Score(desktop, Heavy).TotalDollars);
    }

    [Fact]
    public void Laptop_charging_at_50_percent_beats_one_draining_at_50_percent()
    {
        CostBreakdown charging = _f.Score(ScorerFixture.Node("a", ScorerFixture.Laptop("a", 50, ChargeState.Charging, 30)), Heavy);
        CostBreakdown draining = _f.Score(ScorerFixture.Node("b", ScorerFixture.Laptop("b", 50, ChargeState.Discharging, -15)), Heavy);

        Assert.True(charging.TotalDollars < draining.TotalDollars);
        Assert.True(charging.EnergyDollars < draining.EnergyDollars);
    }

    [Fact]
    public void Metered_node_loses_a_large_payload_but_may_keep_a_tiny_one()
    {
        // The tethered laptop is idle and twice as fast; the desktop is busy.
        NodeCostFactors tethered = ScorerFixture.Desktop("tethered", cpu: 0.1) with { Network = new NetworkFactors { Metered = Reading.Measured(true, ScorerFixture.Now, "NetworkManager") } };
        CostCandidate metered = ScorerFixture.Node("tethered", tethered, ScorerFixture.Model(decode: 40, prefill: 400));
        CostCandidate wired = ScorerFixture.Node("desktop", ScorerFixture.Desktop(cpu: 0.5));
        _f.Bandwidth.ReportTransfer("tethered", 100_000_000, TimeSpan.FromSeconds(8));
        _f.Bandwidth.ReportTransfer("desktop", 100_000_000, TimeSpan.FromSeconds(8));

        RequestProfile tiny = new("llama-3.1-8b") { InputTokens = 200, OutputTokens = 200, PayloadBytes = 2_000 };
        RequestProfile large = tiny with { PayloadBytes = 200_000_000 };

        Assert.True(_f.Score(metered, tiny).TotalDollars < _f.Score(wired, tiny).TotalDollars);
        Assert.True(_f.Score(metered, large).TotalDollars > _f.Score(wired, large).TotalDollars);
    }

    [Fact]
    public void A_stale_power_reading_is_treated_as_unknown_after_its_maximum_age()
    {
        // A laptop that said "mains" 31 s ago may have been unplugged since: priced as a battery at its floor.
        DateTimeOffset old = ScorerFixture.Now - ScoringDefaults.PowerMaxAge - TimeSpan.FromSeconds(1);
        NodeCostFactors laptop = ScorerFixture.Laptop("l", 90, ChargeState.Charging, 10, at: old) with
        {
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.1, ScorerFixture.Now, "fresh") },
            Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, ScorerFixture.Now, "fresh") },
        };
        NodeCostFactors fresh = ScorerFixture.Laptop("l", 90, ChargeState.Charging, 10);

        CostBreakdown staleCost = _f.Score(ScorerFixture.Node("l", laptop), Heavy);
        CostBreakdown freshCost = _f.Score(ScorerFixture.Node("l", fresh), Heavy);

        Assert.True(staleCost.Assumptions.HasFlag(CostAssumptions.PowerSourceUnknown));
        Assert.True(staleCost.Assumptions.HasFlag(CostAssumptions.BatteryAtFloor));
        Assert.False(freshCost.Assumptions.HasFlag(CostAssumptions.PowerSourceUnknown));
        Assert.True(staleCost.EnergyDollars > freshCost.EnergyDollars * 10);
    }

    [Fact]
    public void An_unknown_price_never_wins_by_accident()
    {
        var unknown = new CostCandidate { TargetId = "mystery-api", Model = ScorerFixture.Model(decode: 500, prefill: 50_000) };
        CostBreakdown cost = _f.Score(unknown, Heavy);

        Assert.Equal(CostExclusion.UnknownPrice, cost.Exclusion);
        Assert.Equal(0, cost.ApiDollars);
    }

    [Fact]
    public void Below_the_reserve_floor_non_urgent_work_is_refused_and_urgent_work_is_priced_high()
    {
        CostCandidate low = ScorerFixture.Node("l", ScorerFixture.Laptop("l", 8, ChargeState.Discharging, -20));

        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(low, Heavy).Exclusion);
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(low, Heavy with { Urgency = Urgency.Background }).Exclusion);
        CostBreakdown urgent = _f.Score(low, Heavy with { Urgency = Urgency.Interactive });
        Assert.Equal(CostExclusion.None, urgent.Exclusion);
        CostBreakdown full = _f.Score(ScorerFixture.Node("l", ScorerFixture.Laptop("l", 95, ChargeState.Discharging, -20)), Heavy with { Urgency = Urgency.Interactive });
        Assert.True(urgent.EnergyDollars > 50 * full.EnergyDollars);
    }

    [Fact]
    public void A_desktop_without_a_battery_is_priced_at_mains_even_when_the_source_is_unknown()
    {
        NodeCostFactors server = ScorerFixture.Desktop() with
        {
            Power = new PowerFactors
            {
                Source = Reading.Unknown<PowerSource>("no power supply reported by the kernel", ScorerFixture.Now),
                BatteryCount = Reading.Measured(0, ScorerFixture.Now, "/sys/class/power_supply"),
            },
        };

        CostBreakdown cost = _f.Score(ScorerFixture.Node("s", server), Heavy);

        Assert.False(cost.Assumptions.HasFlag(CostAssumptions.BatteryAtFloor));
        Assert.Equal(65 * cost.ComputeLatencySeconds / 3.6e6 * 0.17, cost.EnergyDollars, 12);
    }
}
