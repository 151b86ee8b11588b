namespace CostModel.Benchmarks;

/// <summary>
/// A clock for the surge benchmark: bursts of <see cref="BurstReads"/> clock reads
/// <see cref="StepPerRead"/> apart (about 60 decisions within 0.13 s), each after a quiet gap of
/// <see cref="Gap"/>. The router's usual rate is then about one request every two seconds and its
/// recent rate in a burst tens a second: after its first few requests of each burst it is in a
/// surge and draws from the burst spread (<c>HerdSpread</c>), the path the surge benchmark times.
/// </summary>
internal sealed class BurstClock(DateTimeOffset start) : TimeProvider
{
    /// <summary>1 ms of virtual time per read within a burst.</summary>
    public static readonly long StepPerRead = TimeSpan.TicksPerMillisecond;

    /// <summary>128 reads a burst (the router reads the clock about twice a decision).</summary>
    public const long BurstReads = 128;

    /// <summary>120 s between bursts: twice the router's usual-rate time constant.</summary>
    public static readonly TimeSpan Gap = TimeSpan.FromSeconds(120);

    private readonly long _startTicks = start.UtcTicks;
    private long _reads;

    /// <inheritdoc/>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc/>
    public override long GetTimestamp() => Elapsed(Interlocked.Increment(ref _reads));

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => new(_startTicks + Elapsed(Interlocked.Increment(ref _reads)), TimeSpan.Zero);

    private static long Elapsed(long reads) => (reads * StepPerRead) + (reads / BurstReads * Gap.Ticks);
}
