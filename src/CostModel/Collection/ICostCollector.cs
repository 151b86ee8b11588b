using System.Reactive.Concurrency;
using CostModel.Factors;

namespace CostModel.Collection;

/// <summary>Measures this node: one snapshot on demand, or a stream of them.</summary>
public interface ICostCollector
{
    /// <summary>
    /// Runs every probe once and returns the snapshot. Never throws because of a probe: a failed
    /// signal is Unknown with its reason.
    /// </summary>
    NodeCostFactors Collect();

    /// <summary>
    /// A stream of snapshots, one per <paramref name="interval"/> on <paramref name="scheduler"/>,
    /// with trends computed from recent snapshots. The stream never errors because of a probe.
    /// Each subscription runs its own sampling loop (collections are serialised); share one with
    /// <c>Publish().RefCount()</c> when several consumers need the same snapshots.
    /// </summary>
    /// <param name="interval">Time between snapshots (the options' <c>SampleInterval</c> when null).</param>
    /// <param name="scheduler">Where timing and collection run (a virtual-time scheduler in tests).</param>
    IObservable<NodeCostFactors> Observe(IScheduler scheduler, TimeSpan? interval = null);
}
