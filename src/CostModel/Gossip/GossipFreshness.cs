namespace CostModel.Gossip;

/// <summary>
/// Tells whether the mesh's gossip keeps up with it, from how old the node states this node merges
/// are: a state that arrives older than the heartbeat (<see cref="GossipOptions.MaxSilence"/>) came
/// after its node's next heartbeat was due. When, over a window, at least <see cref="BehindShare"/> of
/// the states merged were that late, the gossip is behind (the mesh is too large for the gossip's
/// budget: docs/gossip-wire-format.md, "How large a mesh the budget carries"); the adapter says so
/// once, and again when it has caught up.
/// </summary>
/// <remarks>Not thread-safe: the adapter calls it under its view's gate. Allocation-free.</remarks>
internal sealed class GossipFreshness
{
    /// <summary>
    /// One minute: the window over which the merged states are counted. Twelve heartbeats, so a
    /// node's own pause (a GC, a sleep) or one slow peer does not decide it, and short enough that a
    /// mesh that outgrew its budget is told within the minute.
    /// </summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>
    /// 50 states: fewer in a window decide nothing (a mesh of a few nodes merges about one state per
    /// node per heartbeat, 12 a minute each, and is never too large for the budget; one late state of
    /// a handful is a pause, not a trend).
    /// </summary>
    public const int MinStates = 50;

    /// <summary>
    /// A quarter of the states merged in a window arriving after their node's next heartbeat was due:
    /// the gossip is behind. Measured in the simulator (2026-12-07, windows of a minute, mean age at
    /// the merge in brackets): at 100 nodes on the defaults none is that late (0.4 s); at 500 nodes
    /// 51 to 65 % (5.1 to 6.3 s: the views' readings 10 s old at the median); at 500 nodes with rounds
    /// every 50 ms none (0.4 s). A quarter lies well between.
    /// </summary>
    public const double BehindShare = 0.25;

    private long _windowStartTicks;
    private int _merged;
    private int _late;
    private double _ageSum;

    /// <summary>True while the last full window found the gossip behind.</summary>
    public bool Behind { get; private set; }

    /// <summary>Counts a merged state.</summary>
    /// <param name="ageTicks">How old it was when merged (from its node's newest reading), ticks.</param>
    /// <param name="heartbeatTicks">The heartbeat, <see cref="GossipOptions.MaxSilence"/>, ticks.</param>
    /// <returns>True when it was late: older than the heartbeat.</returns>
    public bool Merged(long ageTicks, long heartbeatTicks)
    {
        _merged++;
        _ageSum += ageTicks;
        if (ageTicks <= heartbeatTicks)
        {
            return false;
        }

        _late++;
        return true;
    }

    /// <summary>
    /// Closes the window once it has run its course, and says whether the verdict changed: behind
    /// (the gossip fell behind) or caught up. A window with fewer than <see cref="MinStates"/> merged
    /// keeps the verdict as it was. A clock set back starts a new window.
    /// </summary>
    /// <param name="nowTicks">Now, UTC ticks.</param>
    /// <param name="change">The window's figures when the verdict changed.</param>
    /// <returns>True when the verdict changed with this window.</returns>
    public bool TryClose(long nowTicks, out FreshnessWindow change)
    {
        change = default;
        if (_windowStartTicks == 0 || nowTicks < _windowStartTicks)
        {
            Reset(nowTicks);
            return false;
        }

        if (nowTicks - _windowStartTicks < Window.Ticks)
        {
            return false;
        }

        bool changed = false;
        if (_merged >= MinStates)
        {
            double lateShare = (double)_late / _merged;
            bool behind = lateShare >= BehindShare;
            if (behind != Behind)
            {
                Behind = behind;
                change = new FreshnessWindow(_merged, lateShare, _ageSum / _merged / TimeSpan.TicksPerSecond);
                changed = true;
            }
        }

        Reset(nowTicks);
        return changed;
    }

    private void Reset(long nowTicks)
    {
        _windowStartTicks = nowTicks;
        _merged = 0;
        _late = 0;
        _ageSum = 0;
    }
}

/// <summary>A window of merged states as <see cref="GossipFreshness"/> judged it.</summary>
/// <param name="Merged">States merged in the window.</param>
/// <param name="LateShare">The share of them older than the heartbeat when merged, 0 to 1.</param>
/// <param name="MeanAgeSeconds">Their mean age when merged, seconds.</param>
internal readonly record struct FreshnessWindow(int Merged, double LateShare, double MeanAgeSeconds);
