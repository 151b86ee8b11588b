using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Tests.Scoring;

/// <summary>
/// The reserve floor judged a look-ahead from now (<see cref="ScoringOptions.BatteryReserveLookAhead"/>,
/// 30 s by default): a draining battery is refused non-urgent work once its trend puts it at the floor
/// within the look-ahead, counted from the reading's observation time; before the trend is known, once
/// its discharge rate puts it there within <see cref="ScoringDefaults.BatteryReserveRateLookAhead"/>.
/// </summary>
public sealed class ReserveLookAheadTests : IDisposable
{
    // 60 %/h: half a point in 30 s (a 60 W draw on a 50 Wh battery gives 120 %/h).
    private const double Drain = -60;

    private static readonly RequestProfile Normal = new("llama-3.1-8b") { InputTokens = 500, OutputTokens = 100, PayloadBytes = 4_000 };

    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static Reading<double> Watts(double watts) => Reading.Measured(watts, ScorerFixture.Now, "test");

    private static Reading<double> Wh(double wattHours) => Reading.Measured(wattHours, ScorerFixture.Now, "test");

    // A discharging laptop whose trend is still collecting (the first minute or more after an unplug).
    private static NodeCostFactors Collecting(double percent, Reading<double> rate, Reading<double> full)
    {
        NodeCostFactors laptop = ScorerFixture.Laptop("l", percent, ChargeState.Discharging, Drain);
        return laptop with
        {
            Power = laptop.Power with { BatteryRateWatts = rate, FullWattHours = full },
            Trends = new TrendFactors { BatteryPercentPerHour = Reading.Unknown<double>("collecting", ScorerFixture.Now) },
        };
    }

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

        // A trend still collecting (Unknown) and no discharge rate: no drain known, the measured 10.05 % is above the floor.
        NodeCostFactors collecting = Collecting(10.05, Reading.Unknown<double>("no rate", ScorerFixture.Now), Reading.Measured(50.0, ScorerFixture.Now, "test"));
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", collecting), Normal).Exclusion);

        // With a rate but no look-ahead: the rate's shorter look-ahead is at most the option's, so none either.
        Assert.Equal(CostExclusion.None, noLookAhead.Score(ScorerFixture.Node("l", Collecting(10.05, Watts(60), Wh(50))), Normal).Exclusion);

        // Charging: the charge rises, nothing to look ahead to.
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", ScorerFixture.Laptop("l", 10.3, ChargeState.Charging, 20)), Normal).Exclusion);
    }

    [Fact]
    public void Before_the_trend_is_known_the_charge_is_judged_a_few_seconds_ahead_along_the_discharge_rate()
    {
        // 60 W from 50 Wh is 120 %/h: 0.167 point in the 5 s of BatteryReserveRateLookAhead.
        Assert.Equal(TimeSpan.FromSeconds(5), ScoringDefaults.BatteryReserveRateLookAhead);
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(ScorerFixture.Node("l", Collecting(10.15, Watts(60), Wh(50))), Normal).Exclusion);
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(ScorerFixture.Node("l", Collecting(10.15, Watts(60), Wh(50))), Normal with { Urgency = Urgency.Background }).Exclusion);
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", Collecting(10.15, Watts(60), Wh(50))), Normal with { Urgency = Urgency.Interactive }).Exclusion);

        // Not the trend's 30 s (1 point at this rate): 10.2 % stays above the floor in 5 s.
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", Collecting(10.2, Watts(60), Wh(50))), Normal).Exclusion);

        // The reading's age counts: read at Now, scored 3 s later (8 s in all, 0.267 point).
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(ScorerFixture.Node("l", Collecting(10.2, Watts(60), Wh(50))), Normal, ScorerFixture.Now.AddSeconds(3)).Exclusion);

        // A shorter look-ahead option bounds it: 2 s at 120 %/h is 0.067 point.
        using var short2 = new ScorerFixture(o => o.BatteryReserveLookAhead = TimeSpan.FromSeconds(2));
        Assert.Equal(CostExclusion.None, short2.Score(ScorerFixture.Node("l", Collecting(10.1, Watts(60), Wh(50))), Normal).Exclusion);
        Assert.Equal(CostExclusion.BelowBatteryReserve, short2.Score(ScorerFixture.Node("l", Collecting(10.05, Watts(60), Wh(50))), Normal).Exclusion);
    }

    [Fact]
    public void A_peer_s_capacity_unknown_is_taken_as_the_small_laptop_prior()
    {
        // Gossip carries the rate, not the capacity: 60 W over the 40 Wh prior is 150 %/h, 0.208 point in 5 s.
        Assert.Equal(40, ScoringDefaults.BatteryFullWattHoursPrior);
        Reading<double> unknown = Reading.Unknown<double>("not on the wire", ScorerFixture.Now);
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(ScorerFixture.Node("l", Collecting(10.2, Watts(60), unknown)), Normal).Exclusion);
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", Collecting(10.25, Watts(60), unknown)), Normal).Exclusion);

        // A capacity of 0 (a broken gauge) is no capacity: the prior too, not a division by zero.
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(ScorerFixture.Node("l", Collecting(10.2, Watts(60), Wh(0))), Normal).Exclusion);

        // A broken gauge's tiny capacity under a large rate: the drain is at most what a trend can
        // read (3,600 %/h, 5 points in 5 s), so a battery at 20 % still takes work, one at 14.9 % not.
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("l", Collecting(20, Watts(9_000), Wh(0.01))), Normal).Exclusion);
        Assert.Equal(CostExclusion.BelowBatteryReserve, _f.Score(ScorerFixture.Node("l", Collecting(14.9, Watts(9_000), Wh(0.01))), Normal).Exclusion);
    }

    [Fact]
    public void The_rate_judges_the_reserve_only_the_price_waits_for_the_trend()
    {
        // Well above the floor the rate refuses nothing, and its drain does not raise the price: the
        // same energy price over a 50 Wh battery (120 %/h) as over a 5 kWh one (1.2 %/h), while the
        // trend is unknown.
        CostBreakdown small = _f.Score(ScorerFixture.Node("l", Collecting(30, Watts(60), Wh(50))), Normal);
        CostBreakdown large = _f.Score(ScorerFixture.Node("l", Collecting(30, Watts(60), Wh(5000))), Normal);
        Assert.Equal(CostExclusion.None, small.Exclusion);
        Assert.Equal(large.EnergyDollars, small.EnergyDollars);

        // The trend known at that drain, it raises the price (the drain factor): the comparison can fail.
        NodeCostFactors laptop = ScorerFixture.Laptop("l", 30, ChargeState.Discharging, -120);
        NodeCostFactors trending = laptop with { Power = laptop.Power with { BatteryRateWatts = Watts(60), FullWattHours = Wh(50) } };
        double priced = _f.Score(ScorerFixture.Node("l", trending), Normal).EnergyDollars;
        Assert.True(priced > small.EnergyDollars, $"{priced} against {small.EnergyDollars}");
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
