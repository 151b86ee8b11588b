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
}
