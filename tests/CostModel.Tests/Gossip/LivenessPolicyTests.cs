using CostModel.Gossip;
using CostModel.Mesh;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

public sealed class LivenessPolicyTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly LivenessPolicy _policy = new(new LivenessSettings());

    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public void Defaults_are_the_documented_figures()
    {
        var s = new LivenessSettings();

        Assert.Equal(8, s.PhiThreshold);
        Assert.Equal(TimeSpan.FromSeconds(5), s.MaxSilence);
        Assert.Equal(PublishSettings.DefaultMaxSilence, s.MaxSilence);
        Assert.Equal(TimeSpan.FromSeconds(30), s.DeadAfter);
        Assert.Equal(TimeSpan.FromSeconds(60), s.RemoveAfter);
        Assert.Equal(200, s.SampleWindow);
        Assert.Equal(TimeSpan.FromSeconds(1), s.MinStandardDeviation);
        Assert.Equal(TimeSpan.FromSeconds(5), s.AcceptableHeartbeatPause);
        Assert.Equal(TimeSpan.FromSeconds(10), s.MaxRecordedInterval);
    }

    [Fact]
    public void A_silent_node_goes_Alive_Suspect_Dead_then_is_removed_at_the_right_times()
    {
        var detector = new PhiAccrualDetector(_policy.Settings, _time);
        detector.Heartbeat(_time.GetTimestamp());
        for (int i = 0; i < 20; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            detector.Heartbeat(_time.GetTimestamp());
        }

        // Walk the silence in 100 ms steps, as a liveness timer would, and note when each change happens.
        NodeLiveness state = NodeLiveness.Alive;
        var changes = new List<(MeshChangeKind Kind, TimeSpan At)>();
        bool removed = false;
        while (!removed)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            long now = _time.GetTimestamp();
            LivenessDecision decision = _policy.Decide(state, detector, now);
            if (decision.Change is { } change)
            {
                changes.Add((change, detector.Silence(now)));
            }

            state = decision.Next;
            removed = decision.Remove;
        }

        Assert.Equal([MeshChangeKind.Suspect, MeshChangeKind.Dead, MeshChangeKind.Removed], changes.Select(c => c.Kind));
        Assert.InRange(changes[0].At, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15.5));
        Assert.Equal(TimeSpan.FromSeconds(30), changes[1].At);
        Assert.Equal(TimeSpan.FromSeconds(90), changes[2].At);
    }

    [Fact]
    public void Dead_and_removal_happen_exactly_at_their_thresholds()
    {
        TimeSpan dead = _policy.Settings.DeadAfter;
        TimeSpan remove = dead + _policy.Settings.RemoveAfter;

        Assert.Equal(new LivenessDecision(NodeLiveness.Suspect, false, null), _policy.Decide(NodeLiveness.Suspect, 20, dead - Tick));
        Assert.Equal(new LivenessDecision(NodeLiveness.Dead, false, MeshChangeKind.Dead), _policy.Decide(NodeLiveness.Suspect, 20, dead));
        Assert.Equal(new LivenessDecision(NodeLiveness.Dead, false, null), _policy.Decide(NodeLiveness.Dead, 20, remove - Tick));
        Assert.Equal(new LivenessDecision(NodeLiveness.Dead, true, MeshChangeKind.Removed), _policy.Decide(NodeLiveness.Dead, 20, remove));
    }

    [Fact]
    public void Suspect_exactly_at_the_threshold()
    {
        Assert.Equal(new LivenessDecision(NodeLiveness.Alive, false, null), _policy.Decide(NodeLiveness.Alive, 7.999, TimeSpan.FromSeconds(10)));
        Assert.Equal(new LivenessDecision(NodeLiveness.Suspect, false, MeshChangeKind.Suspect), _policy.Decide(NodeLiveness.Alive, 8, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Silence_alone_declares_a_node_dead_even_when_its_history_keeps_phi_low()
    {
        Assert.Equal(new LivenessDecision(NodeLiveness.Dead, false, MeshChangeKind.Dead), _policy.Decide(NodeLiveness.Alive, 0.5, TimeSpan.FromSeconds(30)));
        Assert.Equal(new LivenessDecision(NodeLiveness.Dead, true, MeshChangeKind.Removed), _policy.Decide(NodeLiveness.Alive, 0.5, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Only_a_heartbeat_brings_a_node_back()
    {
        // Without a heartbeat, a lower phi or a shorter silence changes nothing.
        Assert.Equal(NodeLiveness.Suspect, _policy.Decide(NodeLiveness.Suspect, 0, TimeSpan.FromSeconds(1)).Next);
        Assert.Equal(NodeLiveness.Dead, _policy.Decide(NodeLiveness.Dead, 0, TimeSpan.FromSeconds(1)).Next);

        Assert.Equal(new LivenessDecision(NodeLiveness.Alive, false, MeshChangeKind.Recovered), LivenessPolicy.OnHeartbeat(NodeLiveness.Suspect));
        Assert.Equal(new LivenessDecision(NodeLiveness.Alive, false, MeshChangeKind.Recovered), LivenessPolicy.OnHeartbeat(NodeLiveness.Dead));
        Assert.Equal(new LivenessDecision(NodeLiveness.Alive, false, null), LivenessPolicy.OnHeartbeat(NodeLiveness.Alive));
    }

    [Fact]
    public void A_recovered_node_is_judged_afresh_by_its_detector()
    {
        var detector = new PhiAccrualDetector(_policy.Settings, _time);
        detector.Heartbeat(_time.GetTimestamp());
        _time.Advance(TimeSpan.FromSeconds(25));
        LivenessDecision suspect = _policy.Decide(NodeLiveness.Alive, detector, _time.GetTimestamp());
        Assert.Equal(NodeLiveness.Suspect, suspect.Next);

        detector.Heartbeat(_time.GetTimestamp());
        NodeLiveness state = LivenessPolicy.OnHeartbeat(suspect.Next).Next;
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(new LivenessDecision(NodeLiveness.Alive, false, null), _policy.Decide(state, detector, _time.GetTimestamp()));
    }

    [Fact]
    public void Remove_after_zero_removes_at_dead_after()
    {
        var policy = new LivenessPolicy(new LivenessSettings { RemoveAfter = TimeSpan.Zero });

        Assert.True(policy.Decide(NodeLiveness.Suspect, 20, TimeSpan.FromSeconds(30)).Remove);
        Assert.False(policy.Decide(NodeLiveness.Suspect, 20, TimeSpan.FromSeconds(30) - Tick).Remove);
    }

    [Fact]
    public void A_negative_silence_counts_as_none_and_NaN_phi_is_refused()
    {
        Assert.Equal(NodeLiveness.Alive, _policy.Decide(NodeLiveness.Alive, 0, TimeSpan.FromSeconds(-100)).Next);
        Assert.Throws<ArgumentOutOfRangeException>(() => _policy.Decide(NodeLiveness.Alive, double.NaN, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => _policy.Decide((NodeLiveness)42, 0, TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => _policy.Decide(NodeLiveness.Alive, null!, 0));
    }

    [Fact]
    public void Settings_out_of_range_are_refused_with_the_setting_named()
    {
        AssertRefused(nameof(LivenessSettings.PhiThreshold), () => new LivenessSettings { PhiThreshold = 0 });
        AssertRefused(nameof(LivenessSettings.PhiThreshold), () => new LivenessSettings { PhiThreshold = double.NaN });
        AssertRefused(nameof(LivenessSettings.PhiThreshold), () => new LivenessSettings { PhiThreshold = PhiAccrualDetector.MaxPhi + 1 });
        AssertRefused(nameof(LivenessSettings.MaxSilence), () => new LivenessSettings { MaxSilence = TimeSpan.Zero });
        AssertRefused(nameof(LivenessSettings.DeadAfter), () => new LivenessSettings { DeadAfter = TimeSpan.Zero });
        AssertRefused(nameof(LivenessSettings.DeadAfter), () => new LivenessSettings { DeadAfter = TimeSpan.FromDays(2) });
        AssertRefused(nameof(LivenessSettings.RemoveAfter), () => new LivenessSettings { RemoveAfter = TimeSpan.FromSeconds(-1) });
        AssertRefused(nameof(LivenessSettings.SampleWindow), () => new LivenessSettings { SampleWindow = 1 });
        AssertRefused(nameof(LivenessSettings.SampleWindow), () => new LivenessSettings { SampleWindow = 10_001 });
        AssertRefused(nameof(LivenessSettings.MinStandardDeviation), () => new LivenessSettings { MinStandardDeviation = TimeSpan.Zero });
        AssertRefused(nameof(LivenessSettings.AcceptableHeartbeatPause), () => new LivenessSettings { AcceptableHeartbeatPause = TimeSpan.FromSeconds(-1) });

        // A with-expression is checked too.
        AssertRefused(nameof(LivenessSettings.RemoveAfter), () => new LivenessSettings() with { RemoveAfter = TimeSpan.MinValue });
    }

    [Fact]
    public void Dead_after_must_exceed_the_heartbeat_interval()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new LivenessPolicy(new LivenessSettings { DeadAfter = TimeSpan.FromSeconds(5) }));
        Assert.Contains("DeadAfter", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new LivenessPolicy(null!));
    }

    private static void AssertRefused(string name, Func<LivenessSettings> create)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(name, error.ParamName);
    }
}
