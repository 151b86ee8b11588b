using CostModel.Factors;

namespace CostModel.Collection;

/// <summary>
/// Measures the requests this node's router places, for <see cref="PendingWork.RoutedPerSecond"/>:
/// a router attaches its count of decisions when it is built (<see cref="Attach"/>; it counts them
/// already, for its burst estimate, so a decision pays nothing more), and the collector reads the
/// rate once a snapshot (<see cref="Read"/>): an <see cref="ArrivalRateMeter"/> with
/// <see cref="PendingWork.RoutedRateTimeConstant"/> given the decisions counted since the last read.
/// Other routers count the mesh's routers by it (docs/routing.md, "How many routers"). Thread-safe.
/// </summary>
/// <remarks>
/// A node without a router reads NotSupported: it places nothing, and other routers do not count it.
/// A router starts with one request counted (<see cref="AttachPrior"/>): a router just built is taken
/// to route until about 23 minutes without a request say otherwise, so a mesh that has just started,
/// where most routers have not routed yet, is not taken for a mesh of servers. The decisions counted
/// since the last read are taken as made at the read: at most one sampling interval (1 s) late
/// against a 10-minute constant.
/// </remarks>
internal sealed class RoutedRate
{
    /// <summary>1 request: what a router is credited with when it is attached, as if it had just routed one.</summary>
    public const double AttachPrior = 1;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly ArrivalRateMeter _meter;

    // Each attached router's count of decisions since it was built, and what of it was counted.
    private Func<long>[] _sources = [];
    private long[] _counted = [];

    /// <param name="time">The clock.</param>
    public RoutedRate(TimeProvider time)
    {
        _time = time;
        _meter = new ArrivalRateMeter(time, PendingWork.RoutedRateTimeConstant, "router");
    }

    /// <summary>Attaches a router (when it is built): its decisions are counted from now, and <see cref="AttachPrior"/> with them.</summary>
    /// <param name="decisions">The router's count of decisions since it was built (read once a snapshot, from any thread).</param>
    public void Attach(Func<long> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        lock (_gate)
        {
            _sources = [.. _sources, decisions];
            _counted = [.. _counted, decisions()];
            _meter.Add(AttachPrior);
        }
    }

    /// <summary>The rate now, requests per second (Estimated: derived from counted decisions); NotSupported without a router.</summary>
    /// <returns>The rate, at most <see cref="PendingWork.MaxArrivalsPerSecond"/>.</returns>
    public Reading<double> Read()
    {
        lock (_gate)
        {
            if (_sources.Length == 0)
            {
                return Reading.NotSupported<double>("no router on this node", _time.GetUtcNow());
            }

            long counted = 0;
            for (int i = 0; i < _sources.Length; i++)
            {
                long decisions = _sources[i]();
                counted += Math.Max(decisions - _counted[i], 0);
                _counted[i] = decisions;
            }

            _meter.Add(counted);
            return _meter.Read();
        }
    }
}
