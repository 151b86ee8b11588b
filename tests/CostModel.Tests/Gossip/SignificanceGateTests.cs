using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Scoring;
using CostModel.Tests.Scoring;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>The publication gate, on the real scorer with the default options and a fake clock.</summary>
public sealed class SignificanceGateTests : IDisposable
{
    private const string Self = "self";

    private readonly ScorerFixture _scoring = new();
    private readonly FakeTimeProvider _time = new(ScorerFixture.Now);
    private readonly SignificanceGate _gate;
    private long _version;

    public SignificanceGateTests() => _gate = new SignificanceGate(_scoring.Scorer, new PublishSettings());

    public void Dispose() => _scoring.Dispose();

    private DateTimeOffset Now => _time.GetUtcNow();

    // This node on battery, discharging 20 %/h at 20 W, captured now.
    private NodeCostFactors Laptop(double batteryPercent = 30, double cpu = 0.30)
    {
        NodeCostFactors f = ScorerFixture.Laptop(Self, batteryPercent, ChargeState.Discharging, -20, cpu: cpu, at: Now);
        return f with { Version = ++_version };
    }

    // This node on mains without a battery, captured now.
    private NodeCostFactors Desktop(double cpu = 0.30) => ScorerFixture.Desktop(Self, cpu, Now) with { Version = ++_version };

    private double RelativeChange(NodeCostFactors from, NodeCostFactors to)
    {
        double before = _gate.ReferenceCost(from).TotalDollars;
        return (_gate.ReferenceCost(to).TotalDollars - before) / before;
    }

    private void Advance(double seconds) => _time.Advance(TimeSpan.FromSeconds(seconds));

    [Fact]
    public void The_first_evaluation_publishes_and_sets_the_heartbeat_deadline()
    {
        Assert.Equal(DateTimeOffset.MinValue, _gate.NextDueAt);
        Assert.Null(_gate.Published);

        NodeCostFactors first = Laptop();
        Assert.Equal(PublishReason.First, _gate.Evaluate(first, Now));

        Assert.Same(first, _gate.Published);
        Assert.Equal(Now, _gate.PublishedAt);
        Assert.Equal(Now + PublishSettings.DefaultMaxSilence, _gate.NextDueAt);
        Assert.False(_gate.HasPendingChange);
    }

    [Fact]
    public void The_reviews_example_two_changes_each_below_the_threshold_publish_together()
    {
        // The review's example, in this cost model's terms: the battery falls 5 points (30 % to
        // 25 %) and the CPU load rises 15 % (0.30 to 0.345). Both make the node dearer; each
        // moves the reference cost 6 to 7 %, under the 10 % threshold; together 13.6 %.
        NodeCostFactors published = Laptop(30, 0.30);
        NodeCostFactors batteryOnly = Laptop(25, 0.30);
        NodeCostFactors cpuOnly = Laptop(30, 0.345);
        NodeCostFactors both = Laptop(25, 0.345);
        Assert.InRange(RelativeChange(published, batteryOnly), 0.05, 0.10);
        Assert.InRange(RelativeChange(published, cpuOnly), 0.05, 0.10);
        Assert.True(RelativeChange(published, both) > 0.10);

        Assert.Equal(PublishReason.First, _gate.Evaluate(published, Now));
        Advance(2);
        Assert.Equal(PublishReason.None, _gate.Evaluate(batteryOnly, Now));
        Assert.False(_gate.HasPendingChange);
        Assert.Equal(PublishReason.None, _gate.Evaluate(cpuOnly, Now));
        Assert.False(_gate.HasPendingChange);
        Assert.Same(published, _gate.Published);

        Assert.Equal(PublishReason.Significant, _gate.Evaluate(both, Now));
        Assert.Same(both, _gate.Published);
    }

    [Fact]
    public void The_same_moves_in_opposite_directions_cancel_out_and_do_not_publish()
    {
        // Battery down 5 points (dearer) while CPU load falls 15 % (cheaper): per-factor
        // thresholds would count two changes; the node's price barely moved.
        NodeCostFactors published = Laptop(30, 0.30);
        NodeCostFactors mixed = Laptop(25, 0.255);
        Assert.InRange(Math.Abs(RelativeChange(published, mixed)), 0, 0.01);

        Assert.Equal(PublishReason.First, _gate.Evaluate(published, Now));
        Advance(2);
        Assert.Equal(PublishReason.None, _gate.Evaluate(mixed, Now));
    }

    [Fact]
    public void Slow_drift_accumulates_against_the_last_published_snapshot()
    {
        // Two points more load every second: each step moves the cost about 3 %, the sum 13 %.
        NodeCostFactors previous = Laptop(cpu: 0.30);
        Assert.Equal(PublishReason.First, _gate.Evaluate(previous, Now));
        var reasons = new List<PublishReason>();
        for (int step = 1; step <= 4; step++)
        {
            Advance(1);
            NodeCostFactors current = Laptop(cpu: 0.30 + (0.02 * step));
            Assert.InRange(RelativeChange(previous, current), 0, 0.04);
            reasons.Add(_gate.Evaluate(current, Now));
            previous = current;
        }

        Assert.Equal([PublishReason.None, PublishReason.None, PublishReason.None, PublishReason.Significant], reasons);
    }

    [Fact]
    public void Jitter_below_the_threshold_never_publishes_between_heartbeats()
    {
        var random = new Random(7);
        Assert.Equal(PublishReason.First, _gate.Evaluate(Laptop(), Now));

        var reasons = new List<PublishReason>();
        for (int i = 0; i < 600; i++)
        {
            Advance(0.5);
            double cpu = 0.30 + ((random.NextDouble() - 0.5) * 0.04);
            double battery = 30 + ((random.NextDouble() - 0.5) * 0.4);
            reasons.Add(_gate.Evaluate(Laptop(battery, cpu), Now));
        }

        // 300 s of evaluations every 0.5 s: only the 5 s heartbeats.
        Assert.DoesNotContain(PublishReason.Significant, reasons);
        Assert.DoesNotContain(PublishReason.Categorical, reasons);
        Assert.Equal(60, reasons.Count(r => r == PublishReason.Heartbeat));
        Assert.False(_gate.HasPendingChange);
    }

    [Fact]
    public void A_heartbeat_goes_out_exactly_at_the_maximum_silence_and_not_before()
    {
        NodeCostFactors snapshot = Laptop();
        DateTimeOffset start = Now;
        Assert.Equal(PublishReason.First, _gate.Evaluate(snapshot, start));
        Assert.Equal(start + TimeSpan.FromSeconds(5), _gate.NextDueAt);

        Assert.Equal(PublishReason.None, _gate.Evaluate(snapshot, start + TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1)));
        Assert.Equal(PublishReason.Heartbeat, _gate.Evaluate(snapshot, start + TimeSpan.FromSeconds(5)));
        Assert.Equal(start + TimeSpan.FromSeconds(10), _gate.NextDueAt);
    }

    [Fact]
    public void An_unchanged_snapshot_evaluated_long_after_its_capture_is_a_heartbeat_not_a_change()
    {
        // Priced at its capture time, the snapshot's readings do not turn stale (and dearer) while it waits.
        NodeCostFactors snapshot = Laptop();
        Assert.Equal(PublishReason.First, _gate.Evaluate(snapshot, Now));

        Advance(ScoringDefaults.PowerMaxAge.TotalSeconds * 2);
        Assert.Equal(PublishReason.Heartbeat, _gate.Evaluate(snapshot, Now));
    }

    [Fact]
    public void The_rate_limit_holds_a_significant_change_until_the_interval_ends_and_then_publishes_it()
    {
        DateTimeOffset start = Now;
        Assert.Equal(PublishReason.First, _gate.Evaluate(Laptop(cpu: 0.30), start));

        Advance(0.3);
        NodeCostFactors busy = Laptop(cpu: 0.60);
        Assert.Equal(PublishReason.None, _gate.Evaluate(busy, Now));
        Assert.True(_gate.HasPendingChange);
        Assert.Equal(start + TimeSpan.FromSeconds(1), _gate.NextDueAt);

        Assert.Equal(PublishReason.None, _gate.Evaluate(busy, _gate.NextDueAt - TimeSpan.FromTicks(1)));
        Assert.True(_gate.HasPendingChange);

        // The caller re-evaluates its newest snapshot at NextDueAt: the change goes out.
        _time.SetUtcNow(_gate.NextDueAt);
        Assert.Equal(PublishReason.Significant, _gate.Evaluate(busy, Now));
        Assert.Same(busy, _gate.Published);
        Assert.False(_gate.HasPendingChange);
        Assert.Equal(Now + TimeSpan.FromSeconds(5), _gate.NextDueAt);
    }

    [Fact]
    public void A_held_change_that_reverted_before_the_interval_ended_is_not_published()
    {
        NodeCostFactors idle = Laptop(cpu: 0.30);
        Assert.Equal(PublishReason.First, _gate.Evaluate(idle, Now));
        Advance(0.3);
        Assert.Equal(PublishReason.None, _gate.Evaluate(Laptop(cpu: 0.60), Now));
        Advance(0.3);
        Assert.Equal(PublishReason.None, _gate.Evaluate(Laptop(cpu: 0.30), Now));

        Assert.False(_gate.HasPendingChange);
        Assert.Equal(_gate.PublishedAt + TimeSpan.FromSeconds(5), _gate.NextDueAt);
    }

    [Fact]
    public void A_categorical_change_publishes_even_when_the_cost_barely_moves()
    {
        NodeCostFactors unmetered = Desktop();
        NodeCostFactors metered = unmetered with { Version = ++_version, Network = new NetworkFactors { Metered = Reading.Measured(true, Now, "NetworkManager") } };
        NodeCostFactors warm = unmetered with { Version = ++_version, Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, Now, "test"), Level = Reading.Measured(ThermalLevel.Fair, Now, "test") } };

        // 4 KiB on a metered link costs 0.00004 $; the scorer does not price the thermal level at all.
        Assert.InRange(RelativeChange(unmetered, metered), 0, 0.001);
        Assert.Equal(0, RelativeChange(unmetered, warm));

        Assert.Equal(PublishReason.First, _gate.Evaluate(unmetered, Now));
        Advance(1);
        Assert.Equal(PublishReason.Categorical, _gate.Evaluate(metered, Now));
        Advance(1);
        Assert.Equal(PublishReason.Categorical, _gate.Evaluate(unmetered, Now));
        Advance(1);
        Assert.Equal(PublishReason.Categorical, _gate.Evaluate(warm, Now));
    }

    [Fact]
    public void A_reading_turning_unknown_is_a_categorical_change()
    {
        NodeCostFactors known = Laptop();
        NodeCostFactors unknown = known with
        {
            Version = ++_version,
            Power = known.Power with { ChargeState = Reading.Unknown<ChargeState>("upower stopped answering", Now) },
        };

        Assert.Equal(PublishReason.First, _gate.Evaluate(known, Now));
        Advance(1);
        Assert.Equal(PublishReason.Categorical, _gate.Evaluate(unknown, Now));

        // Two readings without a value do not differ, whatever their reasons.
        NodeCostFactors otherReason = unknown with { Power = unknown.Power with { ChargeState = Reading.NotSupported<ChargeState>("no battery driver") } };
        Advance(1);
        Assert.Equal(PublishReason.None, _gate.Evaluate(otherReason, Now));
    }

    [Fact]
    public void Unplugging_publishes_as_categorical_and_the_rate_limit_applies_to_it_too()
    {
        NodeCostFactors plugged = ScorerFixture.Laptop(Self, 80, ChargeState.Charging, 10, at: Now);
        Assert.Equal(PublishReason.First, _gate.Evaluate(plugged, Now));

        Advance(0.5);
        NodeCostFactors unplugged = ScorerFixture.Laptop(Self, 80, ChargeState.Discharging, -10, at: Now) with { Version = 2 };
        Assert.Equal(PublishReason.None, _gate.Evaluate(unplugged, Now));
        Assert.True(_gate.HasPendingChange);

        _time.SetUtcNow(_gate.NextDueAt);
        Assert.Equal(PublishReason.Categorical, _gate.Evaluate(unplugged, Now));
    }

    [Fact]
    public void Crossing_the_battery_reserve_is_significant()
    {
        NodeCostFactors above = Laptop(batteryPercent: 11);
        NodeCostFactors below = Laptop(batteryPercent: 9.5);
        Assert.Equal(CostExclusion.None, _gate.ReferenceCost(above).Exclusion);
        Assert.Equal(CostExclusion.BelowBatteryReserve, _gate.ReferenceCost(below).Exclusion);

        Assert.Equal(PublishReason.First, _gate.Evaluate(above, Now));
        Advance(1);
        Assert.Equal(PublishReason.Significant, _gate.Evaluate(below, Now));
    }

    [Fact]
    public void A_new_generation_publishes_as_a_first_snapshot()
    {
        NodeCostFactors before = Laptop();
        Assert.Equal(PublishReason.First, _gate.Evaluate(before, Now));
        Advance(0.1);
        Assert.Equal(PublishReason.First, _gate.Evaluate(before with { Generation = 2, Version = 0 }, Now));
    }

    [Fact]
    public void A_clock_stepped_back_publishes_and_starts_afresh()
    {
        NodeCostFactors snapshot = Laptop();
        Assert.Equal(PublishReason.First, _gate.Evaluate(snapshot, Now));

        DateTimeOffset earlier = Now - TimeSpan.FromHours(1);
        Assert.Equal(PublishReason.Heartbeat, _gate.Evaluate(snapshot, earlier));
        Assert.Equal(earlier + TimeSpan.FromSeconds(5), _gate.NextDueAt);
    }

    [Fact]
    public void The_reference_request_is_the_documented_yardstick()
    {
        RequestProfile r = SignificanceGate.ReferenceRequest;
        Assert.Equal(500, r.InputTokens);
        Assert.Equal(200, r.OutputTokens);
        Assert.Equal(4096, r.PayloadBytes);
        Assert.Equal(Urgency.Normal, r.Urgency);

        // Priced as a peer sees this node: the network terms are present.
        CostBreakdown cost = _gate.ReferenceCost(Desktop());
        Assert.True(cost.NetworkLatencySeconds > 0);
        Assert.Equal(CostExclusion.None, cost.Exclusion);
    }

    [Fact]
    public void Settings_out_of_range_are_refused_with_the_setting_named()
    {
        AssertRefused(nameof(PublishSettings.Threshold), () => new PublishSettings { Threshold = 0 });
        AssertRefused(nameof(PublishSettings.Threshold), () => new PublishSettings { Threshold = -0.1 });
        AssertRefused(nameof(PublishSettings.Threshold), () => new PublishSettings { Threshold = double.NaN });
        AssertRefused(nameof(PublishSettings.Threshold), () => new PublishSettings { Threshold = 11 });
        AssertRefused(nameof(PublishSettings.CostFloorDollars), () => new PublishSettings { CostFloorDollars = 0 });
        AssertRefused(nameof(PublishSettings.MinInterval), () => new PublishSettings { MinInterval = TimeSpan.FromSeconds(-1) });
        AssertRefused(nameof(PublishSettings.MaxSilence), () => new PublishSettings { MaxSilence = TimeSpan.Zero });

        ArgumentException error = Assert.Throws<ArgumentException>(() => new SignificanceGate(_scoring.Scorer, new PublishSettings { MinInterval = TimeSpan.FromSeconds(6) }));
        Assert.Contains("MinInterval", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new SignificanceGate(null!, new PublishSettings()));
        Assert.Throws<ArgumentNullException>(() => new SignificanceGate(_scoring.Scorer, null!));
    }

    [Fact]
    public void Defaults_are_the_documented_figures()
    {
        var s = new PublishSettings();
        Assert.Equal(0.10, s.Threshold);
        Assert.Equal(TimeSpan.FromSeconds(1), s.MinInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), s.MaxSilence);
        Assert.Equal(0.0001, s.CostFloorDollars);
    }

    [Fact]
    public void Evaluating_allocates_nothing()
    {
        NodeCostFactors a = Laptop(cpu: 0.30);
        NodeCostFactors b = Laptop(cpu: 0.31);
        _ = _gate.Evaluate(a, Now);
        _ = _gate.Evaluate(b, Now);

        DateTimeOffset t = Now;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            t += TimeSpan.FromMilliseconds(100);
            _ = _gate.Evaluate(i % 2 == 0 ? a : b, t);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void AssertRefused(string name, Func<PublishSettings> create)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(name, error.ParamName);
    }
}
