namespace CostModel.Routing;

/// <summary>
/// A lock for the router's short sections that every decision enters (the burst estimate's arrival
/// counts, the lease table): one interlocked compare-exchange to enter, a release write to leave.
/// <see cref="Lock"/> costs a second interlocked operation and a look-up of the thread's id, about
/// 8 ns more per section on the benchmark machine (benchmarks/README.md, "Router, seventh round").
/// A waiter spins, then yields its processor (<see cref="SpinWait"/>), so a holder that was preempted,
/// or a long section (the lease table's sweep), costs the waiters little processor time. Not
/// re-entrant: a section must not enter its own gate again (none calls back into its owner).
/// </summary>
/// <example><code>using (_gate.Enter()) { /* the section */ }</code></example>
internal sealed class SpinGate
{
    // 0: free; 1: held.
    private int _held;

    /// <summary>Waits until the gate is free and takes it; the returned scope gives it back when disposed.</summary>
    /// <returns>The scope of the section.</returns>
    public Scope Enter()
    {
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
        {
            spin.SpinOnce();
        }

        return new Scope(this);
    }

    /// <summary>A section holding the gate: disposing it gives the gate back, the section's writes visible before it.</summary>
    /// <param name="gate">The gate held.</param>
    public readonly ref struct Scope(SpinGate gate)
    {
        /// <summary>Gives the gate back.</summary>
        public void Dispose() => Volatile.Write(ref gate._held, 0);
    }
}
