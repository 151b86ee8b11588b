using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Tests.Scoring;

/// <summary>
/// The reserve floor judged a look-ahead from now (<see cref="ScoringOptions.BatteryReserveLookAhead"/>,
/// 30 s by default): a draining battery is refused non-urgent work once its trend puts it at the floor
/// within the look-ahead, counted from the reading's observation time.
/// </summary>
public sealed class ReserveLookAheadTests : IDisposable
{
    // 60 %/h: half a point in 30 s (a 60 W draw on a 50 Wh battery gives 120 %/h).
    private const double Drain = -60;

    private static readonly RequestProfile Normal = new("llama-3.1-8b") { InputTokens = 500, OutputTokens = 100, PayloadBytes = 4_000 };

    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static CostCandidate Draining(double percent, double percentPerHour = Drain) =>
        ScorerFixture.Node("l", ScorerFixture.Laptop("l", percent, ChargeState.Discharging, percentPerHour));

    [Fact]
    public void A_battery_its_drain_takes_to_the_floor_within_the_look_ahead_refuses_non_urgent_work()
    {
        // 10.3 % - 0.5 = 9.8 % in 30 s: at the floor before the look-ahead ends.
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(Draining(10.3), Normal).Exclusion);
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(Draining(10.3), Normal with { Urgency = Urgency.Background }).Exclusion);
        Assert.Equal(CostExclusion.None, _f.Score(Draining(10.3), Normal with { Urgency = Urgency.Interactive }).Exclusion);

        // 10.6 % - 0.5 = 10.1 %: still above it.
        Assert.Equal(CostExclusion.None, _f.Score(Draining(10.6), Normal).Exclusion);

        // Draining slower (-20 %/h: 0.17 point in 30 s), 10.3 % stays above.
        Assert.Equal(CostExclusion.None, _f.Score(Draining(10.3, -20), Normal).Exclusion);
    }

    [Fact]
    public void The_reading_s_age_counts_towards_the_drain()
    {
        // Read at Now, scored 7 s later (still fresh): 10.6 % - 60 %/h x 37 s = 9.98 %.
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(Draining(10.6), Normal, ScorerFixture.Now.AddSeconds(7)).Exclusion);
        Assert.Equal(CostExclusion.None, _f.Score(Draining(10.6), Normal, ScorerFixture.Now.AddSeconds(5)).Exclusion);
    }

    [Fact]
    public void Without_a_look_ahead_or_a_known_drain_the_reading_is_judged_as_it_is()
    {
        using var noLookAhead = new ScorerFixture(o => o.BatteryReserveLookAhead = TimeSpan.Zero);
        Assert.Equal(CostExclusion.None, noLookAhead.Score(Draining(10.3), Normal).Exclusion);
        Assert.Equal(CostExclusion.BelowBatteryReserve, noLookAhead.Score(Draining(10.0), Normal).Exclusion);

        // A trend still collecting (Unknown): no drain known, the measured 10.3 % is above the floor.
        NodeCostFactors collecting = ScorerFixture.Laptop("l", 10.3, ChargeState.Discharging, Drain) with
        {
            Trends = new TrendFactors { BatteryPercentPerHour = Reading.Unknown<double>("collecting", ScorerFixture.Now) },
        };
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", collecting), Normal).Exclusion);

        // Charging: the charge rises, nothing to look ahead to.
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", ScorerFixture.Laptop("l", 10.3, ChargeState.Charging, 20)), Normal).Exclusion);
    }

    [Fact]
    public void Prepared_terms_hold_only_until_the_charge_would_reach_the_floor_within_the_look_ahead()
    {
        var options = new ScoringOptions();
        NodeCostFactors laptop = ScorerFixture.Laptop("l", 10.6, ChargeState.Discharging, Drain);

        NodeTerms terms = DefaultCostScorer.Prepare("l", laptop, ScorerFixture.Now, options, out long until);

        // 0.6 point at 60 %/h is 36 s to the floor; refused 30 s before it, sooner than any reading turns stale.
        Assert.False(terms.BelowReserve);
        Assert.Equal(ScorerFixture.Now.AddSeconds(6).UtcTicks - 1, until);
        Assert.False(DefaultCostScorer.Prepare("l", laptop, new DateTimeOffset(until, TimeSpan.Zero), options, out _).BelowReserve);
        Assert.True(DefaultCostScorer.Prepare("l", laptop, new DateTimeOffset(until + 1, TimeSpan.Zero), options, out _).BelowReserve);
    }
}
