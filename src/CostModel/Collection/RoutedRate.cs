using CostModel.Factors;

namespace CostModel.Collection;

/// <summary>
/// Measures the requests this node's router places, for <see cref="PendingWork.RoutedPerSecond"/>:
/// the router says it exists (<see cref="Attach"/>, once, when it is built) and counts each decision
/// (<see cref="Record"/>, one atomic increment); the collector reads the rate once a snapshot
/// (<see cref="Read"/>), the count decaying exponentially with <see cref="PendingWork.RoutedRateTimeConstant"/>.
/// Other routers count the mesh's routers by it (docs/routing.md, "How many routers").
/// Thread-safe; allocation-free.
/// </summary>
/// <remarks>
/// A node without a router reads NotSupported: it places nothing, and other routers do not count it.
/// A router starts with one request counted (<see cref="AttachPrior"/>): a router just built is taken
/// to route until about 23 minutes without a request say otherwise, so a mesh that has just started,
/// where most routers have not routed yet, is not taken for a mesh of servers. The decisions counted
/// since the last read are taken as made at the read: at most one sampling interval (1 s) late
/// against a 10-minute constant.
/// </remarks>
/// <param name="time">The clock.</param>
internal sealed class RoutedRate(TimeProvider time)
{
    /// <summary>1 request: what a router is credited with when it is built, as if it had just routed one.</summary>
    public const double AttachPrior = 1;

    private const string Source = "router";

    private static readonly double TauSeconds = PendingWork.RoutedRateTimeConstant.TotalSeconds;

    private readonly Lock _gate = new();
    private bool _attached;
    private long _routed;
    private long _counted;
    private double _count;
    private long _atTicks;

    /// <summary>Says that this node has a router (called by the router when it is built); counts <see cref="AttachPrior"/> the first time.</summary>
    public void Attach()
    {
        lock (_gate)
        {
            if (!_attached)
            {
                DecayTo(time.GetUtcNow().UtcTicks);
                _count += AttachPrior;
                _attached = true;
            }
        }
    }

    /// <summary>Counts one routed request.</summary>
    public void Record() => Interlocked.Increment(ref _routed);

    /// <summary>The rate now, requests per second (Estimated: derived from counted decisions); NotSupported without a router.</summary>
    /// <returns>The rate, at most <see cref="PendingWork.MaxArrivalsPerSecond"/>.</returns>
    public Reading<double> Read()
    {
        DateTimeOffset now = time.GetUtcNow();
        double rate;
        lock (_gate)
        {
            if (!_attached)
            {
                return Reading.NotSupported<double>("no router on this node", now);
            }

            DecayTo(now.UtcTicks);
            long routed = Interlocked.Read(ref _routed);
            _count += routed - _counted;
            _counted = routed;
            rate = _count / TauSeconds;
        }

        return Reading.Estimated(Math.Min(rate, PendingWork.MaxArrivalsPerSecond), now, Source);
    }

    // A clock set back leaves the count as it is (no growth from a negative interval). Caller holds the gate.
    private void DecayTo(long ticks)
    {
        if (ticks > _atTicks)
        {
            _count *= Math.Exp(-(ticks - _atTicks) / (double)TimeSpan.TicksPerSecond / TauSeconds);
            _atTicks = ticks;
        }
    }
}
