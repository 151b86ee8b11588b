using System.Globalization;
using CostModel.Mesh;

namespace CostModel.Gossip;

/// <summary>
/// When a silent node becomes suspect, dead and finally removed, and how the phi accrual
/// detector reads its heartbeats. Immutable; every value is range-checked when it is set.
/// </summary>
/// <remarks>
/// Cross-field rules (<see cref="DeadAfter"/> beyond <see cref="MaxSilence"/>) are checked by
/// <see cref="LivenessPolicy"/>'s constructor, because a <c>with</c> expression sets properties one at a time.
/// </remarks>
internal sealed record LivenessSettings
{
    /// <summary>
    /// 8 (dimensionless phi): Cassandra's <c>phi_convict_threshold</c> default and chitchat's
    /// (Quickwit) default. Phi 8 means a 10^-8 chance, under the history's distribution, that a
    /// live node would have stayed silent this long.
    /// </summary>
    public const double DefaultPhiThreshold = 8;

    /// <summary>
    /// 5 s: the longest a live node stays silent, i.e. its heartbeat interval (the issue's
    /// default; the same figure as <see cref="PublishSettings.DefaultMaxSilence"/>, which is
    /// the sending side of it). The detector's bootstrap assumes this interval before it has samples.
    /// </summary>
    public static readonly TimeSpan DefaultMaxSilence = PublishSettings.DefaultMaxSilence;

    /// <summary>
    /// 30 s of silence: dead regardless of phi. Six heartbeat intervals, so five heartbeats in a
    /// row must be lost (on UDP gossip with a few percent loss that does not happen to a live
    /// node); twice the 15.2 s at which phi reaches 8 for a node with a perfectly regular
    /// history under the default detector settings, so Suspect always comes first; and equal to
    /// the cost model's maximum age of power and thermal factors
    /// (<see cref="Scoring.ScoringDefaults.PowerMaxAge"/>), after which the node's factors are
    /// priced as unknown anyway.
    /// </summary>
    public static readonly TimeSpan DefaultDeadAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// 60 s as Dead before removal (90 s of silence in all). Long enough to ride out a laptop's
    /// Wi-Fi hand-over or a short sleep, so the node comes back as Recovered with its history and
    /// affinities rather than as a stranger; short enough that a departed node's entry does not
    /// linger. memberlist keeps a dead node for <c>GossipToTheDeadTime</c> (30 s on a LAN) and
    /// Akka's split-brain resolver waits <c>stable-after</c> (20 s) before downing; we wait
    /// longer because our nodes are laptops and phones that drop off networks briefly and often.
    /// </summary>
    public static readonly TimeSpan DefaultRemoveAfter = TimeSpan.FromSeconds(60);

    /// <summary>
    /// 200 inter-arrival samples per remote node. Akka and Cassandra keep 1,000 at a 1 s
    /// heartbeat (about 17 minutes); our intervals are 1 to 5 s, so 200 samples span about 3 to
    /// 17 minutes: enough for a stable mean and deviation, short enough to follow a node that
    /// turns from busy (frequent publications) to idle (heartbeats only). 200 doubles are 1.6 KB
    /// per node, 6.5 MB for a full mesh view of <see cref="MeshView.MaxNodes"/> nodes (33 MB at 1,000).
    /// </summary>
    public const int DefaultSampleWindow = 200;

    /// <summary>
    /// 1 s: the smallest standard deviation of inter-arrival times the detector assumes. Akka
    /// uses 100 ms for 1 s heartbeats; our intervals are irregular by design (significant-change
    /// publications at most once a second between 5 s heartbeats), and an idle node's history of
    /// exact 5 s heartbeats would otherwise have a deviation of a few milliseconds and make phi
    /// leap at the first late gossip round. With 1 s, phi climbs from 1.6 to 8 over the 2 to
    /// 5 s after the expected arrival (the mean plus <see cref="DefaultAcceptableHeartbeatPause"/>).
    /// </summary>
    public static readonly TimeSpan DefaultMinStandardDeviation = TimeSpan.FromSeconds(1);

    /// <summary>
    /// 5 s (one heartbeat interval) added to the mean interval, like Akka's
    /// <c>acceptable-heartbeat-pause</c> (3 s for its cluster, 10 s for remote watch, at a 1 s
    /// heartbeat). One lost heartbeat datagram, or a heartbeat delayed by the host's gossip
    /// rounds and relay hops, costs no suspicion: a node that was busy and is now idle (mean
    /// about 1 s, next message after 5 s) stays well below the threshold.
    /// </summary>
    public static readonly TimeSpan DefaultAcceptableHeartbeatPause = TimeSpan.FromSeconds(5);

    /// <summary>1 day: the longest duration any setting accepts; longer liveness horizons are configuration mistakes, and the bound keeps sums of durations far from overflow.</summary>
    internal static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>The most samples a window may hold (80 KB per node); a larger window adapts too slowly to be useful.</summary>
    internal const int MaxSampleWindow = 10_000;

    /// <summary>The fewest samples a window may hold: the bootstrap seeds two.</summary>
    internal const int MinSampleWindow = 2;

    /// <summary>Phi at or above which a node is Suspect: greater than 0 and at most <see cref="PhiAccrualDetector.MaxPhi"/>.</summary>
    public double PhiThreshold
    {
        get;
        init => field = double.IsFinite(value) && value > 0 && value <= PhiAccrualDetector.MaxPhi
            ? value
            : throw new ArgumentOutOfRangeException(nameof(PhiThreshold), value,
                string.Create(CultureInfo.InvariantCulture, $"The phi threshold must be greater than 0 and at most {PhiAccrualDetector.MaxPhi}."));
    } = DefaultPhiThreshold;

    /// <summary>The heartbeat interval: the longest a live node stays silent (greater than 0, at most a day).</summary>
    public TimeSpan MaxSilence { get; init => field = GossipSettingsGuard.Positive(value, nameof(MaxSilence)); } = DefaultMaxSilence;

    /// <summary>Silence after which a node is Dead whatever its phi (greater than 0, at most a day; must exceed <see cref="MaxSilence"/>).</summary>
    public TimeSpan DeadAfter { get; init => field = GossipSettingsGuard.Positive(value, nameof(DeadAfter)); } = DefaultDeadAfter;

    /// <summary>Further silence, as Dead, after which the node is removed from the view (0 or more, at most a day; 0 removes at <see cref="DeadAfter"/>).</summary>
    public TimeSpan RemoveAfter { get; init => field = GossipSettingsGuard.NonNegative(value, nameof(RemoveAfter)); } = DefaultRemoveAfter;

    /// <summary>Inter-arrival samples the detector keeps per node (2 to 10,000).</summary>
    public int SampleWindow
    {
        get;
        init => field = value is >= MinSampleWindow and <= MaxSampleWindow
            ? value
            : throw new ArgumentOutOfRangeException(nameof(SampleWindow), value,
                string.Create(CultureInfo.InvariantCulture, $"The sample window must hold {MinSampleWindow} to {MaxSampleWindow} samples."));
    } = DefaultSampleWindow;

    /// <summary>The smallest standard deviation the detector assumes (greater than 0, at most a day).</summary>
    public TimeSpan MinStandardDeviation { get; init => field = GossipSettingsGuard.Positive(value, nameof(MinStandardDeviation)); } = DefaultMinStandardDeviation;

    /// <summary>A pause the detector tolerates beyond the mean interval (0 or more, at most a day).</summary>
    public TimeSpan AcceptableHeartbeatPause { get; init => field = GossipSettingsGuard.NonNegative(value, nameof(AcceptableHeartbeatPause)); } = DefaultAcceptableHeartbeatPause;

    /// <summary>
    /// The longest inter-arrival interval the detector records: 2 x <see cref="MaxSilence"/>.
    /// A longer gap (a partition, a sleeping laptop) says nothing about the node's rhythm and
    /// would make the detector lenient for the whole window; Cassandra ignores intervals beyond
    /// its <c>fd_max_interval_ms</c>, 2 x its 1 s gossip interval, for the same reason.
    /// </summary>
    public TimeSpan MaxRecordedInterval => MaxSilence * 2;
}

/// <summary>What <see cref="LivenessPolicy"/> decided for one node.</summary>
/// <param name="Next">The node's liveness from now on.</param>
/// <param name="Remove">True when the node should leave the mesh view (it has been Dead for the grace period).</param>
/// <param name="Change">The mesh change to report (<see cref="MeshChangeKind.Suspect"/>, <see cref="MeshChangeKind.Dead"/>,
/// <see cref="MeshChangeKind.Removed"/> or <see cref="MeshChangeKind.Recovered"/>), or null when nothing changed.</param>
internal readonly record struct LivenessDecision(NodeLiveness Next, bool Remove, MeshChangeKind? Change);

/// <summary>
/// The liveness state machine, as a pure decision: Alive becomes Suspect when phi reaches the
/// threshold, any state becomes Dead after <see cref="LivenessSettings.DeadAfter"/> of silence,
/// and a Dead node is removed after <see cref="LivenessSettings.RemoveAfter"/> more. Only a
/// heartbeat brings a node back (<see cref="OnHeartbeat"/>): phi falls only when one arrives.
/// Thread-safe (stateless); allocation-free.
/// </summary>
/// <remarks>
/// The caller (the gossip adapter) keeps each node's state. When a message brings news from a
/// node (a state newer than the one held, or a heartbeat the node itself sent; not a copy of an
/// old state relayed by a third node) it calls <see cref="PhiAccrualDetector.Heartbeat"/> and
/// <see cref="OnHeartbeat"/>; on a timer it calls <see cref="Decide(NodeLiveness, PhiAccrualDetector, long)"/>
/// for every remote node.
/// </remarks>
internal sealed class LivenessPolicy
{
    /// <summary>Creates the policy.</summary>
    /// <param name="settings">The thresholds.</param>
    /// <exception cref="ArgumentException"><see cref="LivenessSettings.DeadAfter"/> is not longer than <see cref="LivenessSettings.MaxSilence"/>.</exception>
    public LivenessPolicy(LivenessSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.DeadAfter <= settings.MaxSilence)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"DeadAfter ({settings.DeadAfter.TotalSeconds} s) must be longer than MaxSilence ({settings.MaxSilence.TotalSeconds} s), the heartbeat interval: a live node would be declared dead between two heartbeats."),
                nameof(settings));
        }

        Settings = settings;
        _suspectDeviations = PhiAccrualDetector.DeviationsAt(settings.PhiThreshold);
    }

    // Where phi reaches the threshold, in standard deviations past the expected interval.
    private readonly double _suspectDeviations;

    /// <summary>The thresholds.</summary>
    public LivenessSettings Settings { get; }

    /// <summary>
    /// The earliest timestamp at which <see cref="Decide(NodeLiveness, PhiAccrualDetector, long)"/>
    /// can report a change for this node if no heartbeat arrives first: Alive, when phi reaches the
    /// threshold or the silence <see cref="LivenessSettings.DeadAfter"/>; Suspect, at that silence;
    /// Dead, at <see cref="LivenessSettings.DeadAfter"/> + <see cref="LivenessSettings.RemoveAfter"/>.
    /// A little early rather than late; <see cref="long.MaxValue"/> for a node never heard.
    /// </summary>
    /// <remarks>
    /// Lets the caller skip its pass over every node until the earliest of these (a heartbeat only
    /// moves a node's own deadline, so the caller takes the minimum with it then): a pass over
    /// n nodes every round is O(n^2) a round for a mesh of n nodes.
    /// </remarks>
    /// <param name="current">The node's liveness now.</param>
    /// <param name="detector">The node's detector.</param>
    /// <returns>A timestamp of the detector's time provider.</returns>
    public long NextChange(NodeLiveness current, PhiAccrualDetector detector)
    {
        ArgumentNullException.ThrowIfNull(detector);
        return NextChange(current, detector.Window, detector.Parameters);
    }

    /// <summary>As <see cref="NextChange(NodeLiveness, PhiAccrualDetector)"/>, for a detector's state kept inline (the gossip adapter's records).</summary>
    /// <param name="current">The node's liveness now.</param>
    /// <param name="window">The node's detector state.</param>
    /// <param name="p">The detector's settings and clock conversions.</param>
    /// <returns>A timestamp of the detector's time provider.</returns>
    public long NextChange(NodeLiveness current, in PhiWindow window, PhiParameters p) => current switch
    {
        NodeLiveness.Alive => Math.Min(window.TimestampAtDeviations(p, _suspectDeviations), window.TimestampAtSilence(p, Settings.DeadAfter)),
        NodeLiveness.Suspect => window.TimestampAtSilence(p, Settings.DeadAfter),
        _ => window.TimestampAtSilence(p, Settings.DeadAfter + Settings.RemoveAfter),
    };

    /// <summary>Decides a node's next state from its detector.</summary>
    /// <param name="current">The node's liveness now.</param>
    /// <param name="detector">The node's detector.</param>
    /// <param name="nowTimestamp">Now, as <see cref="TimeProvider.GetTimestamp"/> of the detector's time provider.</param>
    /// <returns>The next state, whether to remove the node and the change to report.</returns>
    public LivenessDecision Decide(NodeLiveness current, PhiAccrualDetector detector, long nowTimestamp)
    {
        ArgumentNullException.ThrowIfNull(detector);
        return Decide(current, detector.Window, detector.Parameters, nowTimestamp);
    }

    /// <summary>As <see cref="Decide(NodeLiveness, PhiAccrualDetector, long)"/>, for a detector's state kept inline (the gossip adapter's records).</summary>
    /// <param name="current">The node's liveness now.</param>
    /// <param name="window">The node's detector state.</param>
    /// <param name="p">The detector's settings and clock conversions.</param>
    /// <param name="nowTimestamp">Now, as <see cref="TimeProvider.GetTimestamp"/> of the detector's time provider.</param>
    /// <returns>The next state, whether to remove the node and the change to report.</returns>
    public LivenessDecision Decide(NodeLiveness current, in PhiWindow window, PhiParameters p, long nowTimestamp) =>
        Decide(current, window.Phi(p, nowTimestamp), window.Silence(p, nowTimestamp));

    /// <summary>Decides a node's next state from its phi and its silence.</summary>
    /// <param name="current">The node's liveness now.</param>
    /// <param name="phi">The node's phi now (<see cref="PhiAccrualDetector.Phi"/>); not NaN.</param>
    /// <param name="silence">Time since the node was last heard from; a negative value (a clock step) counts as 0.</param>
    /// <returns>
    /// Removed when silent for at least <see cref="LivenessSettings.DeadAfter"/> +
    /// <see cref="LivenessSettings.RemoveAfter"/>; otherwise Dead when silent for at least
    /// <see cref="LivenessSettings.DeadAfter"/> (or already Dead); otherwise Suspect when phi is at
    /// least the threshold (or already Suspect); otherwise Alive.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="phi"/> is NaN, or <paramref name="current"/> is not a defined state.</exception>
    public LivenessDecision Decide(NodeLiveness current, double phi, TimeSpan silence)
    {
        if (double.IsNaN(phi))
        {
            throw new ArgumentOutOfRangeException(nameof(phi), phi, "Phi must be a number.");
        }

        if (current is not (NodeLiveness.Alive or NodeLiveness.Suspect or NodeLiveness.Dead))
        {
            throw new ArgumentOutOfRangeException(nameof(current), current, "Not a liveness state.");
        }

        if (silence < TimeSpan.Zero)
        {
            silence = TimeSpan.Zero;
        }

        LivenessSettings s = Settings;
        if (silence >= s.DeadAfter + s.RemoveAfter)
        {
            return new LivenessDecision(NodeLiveness.Dead, true, MeshChangeKind.Removed);
        }

        NodeLiveness next = current;
        if (silence >= s.DeadAfter)
        {
            next = NodeLiveness.Dead;
        }
        else if (current == NodeLiveness.Alive && phi >= s.PhiThreshold)
        {
            next = NodeLiveness.Suspect;
        }

        return new LivenessDecision(next, false, next == current ? null : ChangeTo(next));
    }

    /// <summary>
    /// A message arrived from the node: it is Alive again. Call after
    /// <see cref="PhiAccrualDetector.Heartbeat"/>. A removed node that reappears is not recovered
    /// but joins anew (the caller sees it as unknown).
    /// </summary>
    /// <param name="current">The node's liveness before the message.</param>
    /// <returns>Alive, with <see cref="MeshChangeKind.Recovered"/> when the node was Suspect or Dead.</returns>
    public static LivenessDecision OnHeartbeat(NodeLiveness current) =>
        new(NodeLiveness.Alive, false, current == NodeLiveness.Alive ? null : MeshChangeKind.Recovered);

    private static MeshChangeKind ChangeTo(NodeLiveness next) =>
        next == NodeLiveness.Dead ? MeshChangeKind.Dead : MeshChangeKind.Suspect;
}

/// <summary>Range checks for the gossip settings records' durations.</summary>
internal static class GossipSettingsGuard
{
    /// <summary>Returns <paramref name="value"/> when it is greater than 0 and at most <see cref="LivenessSettings.MaxDuration"/>.</summary>
    /// <param name="value">The duration.</param>
    /// <param name="name">The setting's name, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static TimeSpan Positive(TimeSpan value, string name) =>
        value > TimeSpan.Zero && value <= LivenessSettings.MaxDuration
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be greater than 0 and at most {LivenessSettings.MaxDuration}.");

    /// <summary>Returns <paramref name="value"/> when it is 0 or more and at most <see cref="LivenessSettings.MaxDuration"/>.</summary>
    /// <param name="value">The duration.</param>
    /// <param name="name">The setting's name, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static TimeSpan NonNegative(TimeSpan value, string name) =>
        value >= TimeSpan.Zero && value <= LivenessSettings.MaxDuration
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative and at most {LivenessSettings.MaxDuration}.");
}
