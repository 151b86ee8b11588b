namespace CostModel.Benchmarks;

/// <summary>
/// A clock for the router benchmarks that moves <see cref="StepPerRead"/> of virtual time each time
/// it is read, so the router sees requests arriving at a steady rate (a few reads a decision: about
/// ten requests a second, a busy node's own traffic) instead of the millions a second a benchmark
/// loop makes on the system clock. On the system clock every benchmark router is in a permanent
/// surge (its recent arrival rate far above its one-minute usual rate), and each decision pays the
/// burst spread (<c>HerdSpread</c>), which is not the steady state the figures describe; the surge
/// is measured on its own (<c>benchmarks/README.md</c>, "Router under churn"). <see cref="Warm"/>
/// routes for <see cref="WarmUp"/> of virtual time first, so the usual rate is the steady one.
/// </summary>
internal sealed class SteadyClock(DateTimeOffset start) : TimeProvider
{
    /// <summary>25 ms of virtual time per read.</summary>
    public static readonly long StepPerRead = 25 * TimeSpan.TicksPerMillisecond;

    /// <summary>10 minutes: the usual-rate meter's time constant (60 s) ten times over.</summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromMinutes(10);

    /// <summary>Calls <paramref name="route"/> until <see cref="WarmUp"/> of virtual time has passed.</summary>
    /// <param name="route">One decision, its lease released.</param>
    public void Warm(Action route)
    {
        long until = Volatile.Read(ref _elapsed) + WarmUp.Ticks;
        while (Volatile.Read(ref _elapsed) < until)
        {
            route();
        }
    }

    private readonly long _startTicks = start.UtcTicks;
    private long _elapsed;

    /// <inheritdoc/>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc/>
    public override long GetTimestamp() => Interlocked.Add(ref _elapsed, StepPerRead);

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => new(_startTicks + Interlocked.Add(ref _elapsed, StepPerRead), TimeSpan.Zero);
}
