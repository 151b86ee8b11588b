namespace CostModel.Simulation;

/// <summary>
/// Holds the report runner's resident memory near a budget: every <see cref="CheckInterval"/> it
/// reads the process's working set, and when that is above the budget it runs one full compacting
/// collection (every generation; see <see cref="Mode"/>). A soft limit: it never stops a run.
/// Collections change no result (the simulation runs in virtual time), only how long a run takes.
/// </summary>
/// <remarks>
/// Why: a simulated node's routers keep a view of every peer and rebuild the view of a peer when it
/// changes, so in a large mesh views die old, in the rarely collected old generation: a 1,000-node,
/// 60 s run held 840 MB of live objects but peaked at 1.5 GB resident, with 3 full collections in
/// the run and 1,350 MB of heap after the last. A heap cap (<c>DOTNET_GCHeapHardLimit</c>) makes the
/// collector do the same work, but a cap below what a run needs ends it with an out-of-memory error;
/// this budget only collects (docs/simulation.md, "Fifth round").
/// </remarks>
internal sealed class MemoryBudget : IDisposable
{
    /// <summary>
    /// 880 MiB: the default budget, under the 1 GiB (1,024 MiB) that issue 16 allows a 1,000-node,
    /// 60 s run here, with room for what the process allocates between two checks. Since the
    /// seventh round left some 700 MB live at 1,000 nodes (docs/simulation.md), 880 MiB peaked at
    /// 0.872 to 0.882 GiB in 42 to 47 s of wall time with 16 to 18 collections (six runs, seeds 1 to
    /// 3; a seventh took 53 s in a minute when this VM gave 17 % more CPU for the same work), where
    /// 960 MiB (the default until then) peaked at 0.95 to 0.96 GiB in 44.6 to 47.0 s: the same time,
    /// 80 MB more margin. 800 MiB could not be held (0.85 GiB, 21 collections at the time-share cap).
    /// </summary>
    public const int DefaultMebibytes = 880;

    /// <summary>
    /// A forced collection, not an aggressive one: both compact every generation, and the working
    /// set falls under the budget either way, but an aggressive collection also gives every free
    /// page back to the system, which the run then faults in again as it allocates. At 1,000 nodes
    /// x 60 s, four pairs run one after the other (docs/simulation.md, "Sixth round: the budget's
    /// collections"): 23 forced collections against 12 aggressive ones and 3 s more of pauses, but
    /// 280 K page faults against 680 K, 3 s of system CPU against 6 to 10 s, 54.9 s of wall time
    /// against 58.2 s on average, the same peak (1.00 GB) and the same report.
    /// </summary>
    public const GCCollectionMode Mode = GCCollectionMode.Forced;

    /// <summary>250 ms: how often the working set is read (<see cref="Environment.WorkingSet"/>, from <c>/proc</c> on Linux: cheap at four reads a second, and a check this often overshoots the budget by only what the run allocates in a quarter second).</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// 1/4: the most of the wall time the budget's collections may take. After a collection that
    /// took d, the next waits at least 3 d, so a run whose live objects alone pass the budget (a
    /// 5,000-node mesh) is slowed by at most a quarter, not collected on every check.
    /// </summary>
    public const double MaxTimeShare = 0.25;

    private readonly long _budgetBytes;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _notBefore;
    private int _collections;
    private int _checking;

    private MemoryBudget(long budgetBytes, TimeProvider time)
    {
        _budgetBytes = budgetBytes;
        _time = time;
        _timer = time.CreateTimer(_ => Check(), null, CheckInterval, CheckInterval);
    }

    /// <summary>The budget, MiB.</summary>
    public long Mebibytes => _budgetBytes >> 20;

    /// <summary>The collections the budget ran so far.</summary>
    public int Collections => Volatile.Read(ref _collections);

    /// <summary>Starts holding the process near <paramref name="mebibytes"/>; null when it is 0 (no budget).</summary>
    /// <param name="mebibytes">The budget, MiB; 0 for none.</param>
    /// <param name="time">The clock of the checks (the system's in the runner).</param>
    /// <returns>The running budget (dispose to stop it), or null.</returns>
    public static MemoryBudget? Start(int mebibytes, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mebibytes);
        ArgumentNullException.ThrowIfNull(time);
        return mebibytes == 0 ? null : new MemoryBudget((long)mebibytes << 20, time);
    }

    /// <inheritdoc />
    public void Dispose() => _timer.Dispose();

    /// <summary>
    /// The earliest timestamp of the next collection after one from <paramref name="start"/> to
    /// <paramref name="end"/>: its duration x (1 - <see cref="MaxTimeShare"/>) / <see cref="MaxTimeShare"/> after it ended.
    /// </summary>
    /// <param name="start">When the collection started (timestamp ticks).</param>
    /// <param name="end">When it ended.</param>
    /// <returns>The timestamp before which no collection runs.</returns>
    internal static long NextAllowed(long start, long end) => end + (long)((end - start) * ((1 - MaxTimeShare) / MaxTimeShare));

    private void Check()
    {
        // A check that runs long (a collection of a large heap) is not overlapped by the next one.
        if (Interlocked.Exchange(ref _checking, 1) == 1)
        {
            return;
        }

        try
        {
            long start = _time.GetTimestamp();
            if (start < _notBefore || Environment.WorkingSet <= _budgetBytes)
            {
                return;
            }

            GC.Collect(GC.MaxGeneration, Mode, blocking: true, compacting: true);
            Interlocked.Increment(ref _collections);
            long end = _time.GetTimestamp();
            _notBefore = NextAllowed(start, end);
        }
        finally
        {
            Volatile.Write(ref _checking, 0);
        }
    }
}
