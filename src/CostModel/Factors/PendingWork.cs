namespace CostModel.Factors;

/// <summary>Work the node itself reports as queued or running (from the host application).</summary>
public sealed record PendingWork
{
    /// <summary>
    /// 10,000 requests per second: the most arrivals a node may report. A single inference node
    /// serves tens to hundreds of requests a second (vLLM's published throughput on one GPU is
    /// in the hundreds of short requests); a hundred times that is no mistake of rounding but a
    /// broken or hostile reporter.
    /// </summary>
    public const double MaxArrivalsPerSecond = 10_000;

    /// <summary>Requests waiting for a slot.</summary>
    public Reading<int> QueueDepth { get; init => field = FactorGuard.NonNegative(value, nameof(QueueDepth)); }

    /// <summary>Requests being served now.</summary>
    public Reading<int> InFlight { get; init => field = FactorGuard.NonNegative(value, nameof(InFlight)); }

    /// <summary>
    /// Requests arriving at the node per second, from every router (a decaying average, e.g.
    /// <see cref="ArrivalRateMeter"/>): routers extrapolate the queue over a snapshot's age with it
    /// (0 to <see cref="MaxArrivalsPerSecond"/>).
    /// </summary>
    public Reading<double> ArrivalsPerSecond
    {
        get;

        // NaN passes FactorGuard.Range's comparisons: a rate must be a finite number in range.
        init => field = !value.HasValue || (double.IsFinite(value.RawValue) && value.RawValue >= 0 && value.RawValue <= MaxArrivalsPerSecond)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value.RawValue, "ArrivalsPerSecond must be a finite number between 0 and 10000 requests per second.");
    }

    /// <summary>
    /// Requests this node's own router places per second, wherever they run (a decaying average over
    /// <see cref="RoutedRateTimeConstant"/>, a router just built credited with one request; the library's
    /// router measures it and the collector adds it to every snapshot; NotSupported on a node without
    /// a router): other routers count the mesh's routers by it, so that a mesh where a few gateways
    /// route for many servers is not priced as if every node routed (docs/routing.md, "How many
    /// routers"). 0 to <see cref="MaxArrivalsPerSecond"/>.
    /// </summary>
    public Reading<double> RoutedPerSecond
    {
        get;

        init => field = !value.HasValue || (double.IsFinite(value.RawValue) && value.RawValue >= 0 && value.RawValue <= MaxArrivalsPerSecond)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value.RawValue, "RoutedPerSecond must be a finite number between 0 and 10000 requests per second.");
    }

    /// <summary>
    /// 10 minutes: the time constant of <see cref="RoutedPerSecond"/>. Long enough that a router of a
    /// request a minute reads steadily (its rate drops below <see cref="MinRouterRate"/> only after
    /// about 23 minutes without a request), short enough that a node which stopped routing leaves
    /// the count within the half hour.
    /// </summary>
    public static readonly TimeSpan RoutedRateTimeConstant = TimeSpan.FromMinutes(10);

    /// <summary>
    /// One request per 100 minutes (1/6,000 per second): a node whose <see cref="RoutedPerSecond"/> is
    /// at least this counts as a router. One request keeps a node above it for
    /// <see cref="RoutedRateTimeConstant"/> x ln 10, about 23 minutes.
    /// </summary>
    public const double MinRouterRate = 1.0 / 6000;
}
