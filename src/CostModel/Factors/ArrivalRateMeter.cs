namespace CostModel.Factors;

/// <summary>
/// Measures the rate at which requests arrive at this node, for <see cref="PendingWork.ArrivalsPerSecond"/>:
/// a count that decays exponentially with <see cref="TimeConstant"/>, divided by it. At a steady
/// rate the count settles at rate x time constant, so the reading is the rate; after a step it
/// follows within about one time constant. Thread-safe; allocation-free.
/// </summary>
/// <remarks>
/// Call <see cref="Record"/> when a request reaches the node (whichever router sent it) and
/// <see cref="Read"/> when the node's pending work is sampled.
/// </remarks>
public sealed class ArrivalRateMeter
{
    /// <summary>
    /// 2 s: twice the gossip publication interval (1 s). A router's view of a node is up to about
    /// that old when it decides, so the rate follows a burst within the time a view is stale, and
    /// averages over two snapshots of steady traffic (a longer constant answers a burst too late,
    /// a shorter one reads a single request as a burst).
    /// </summary>
    public static readonly TimeSpan DefaultTimeConstant = TimeSpan.FromSeconds(2);

    private const string DefaultSource = "arrival rate meter";

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly double _tauSeconds;
    private readonly string _source;
    private double _count;
    private long _atTicks;

    /// <summary>Creates a meter with <see cref="DefaultTimeConstant"/>.</summary>
    /// <param name="time">The clock.</param>
    public ArrivalRateMeter(TimeProvider time)
        : this(time, DefaultTimeConstant)
    {
    }

    /// <summary>Creates a meter.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="timeConstant">How fast old arrivals fade (more than 0, at most an hour).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeConstant"/> is out of range.</exception>
    public ArrivalRateMeter(TimeProvider time, TimeSpan timeConstant)
        : this(time, timeConstant, DefaultSource)
    {
    }

    /// <summary>Creates a meter whose readings name <paramref name="source"/>.</summary>
    internal ArrivalRateMeter(TimeProvider time, TimeSpan timeConstant, string source)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeConstant, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timeConstant, TimeSpan.FromHours(1));
        _time = time;
        TimeConstant = timeConstant;
        _tauSeconds = timeConstant.TotalSeconds;
        _source = source;
        _atTicks = time.GetUtcNow().UtcTicks;
    }

    /// <summary>How fast old arrivals fade.</summary>
    public TimeSpan TimeConstant { get; }

    /// <summary>Counts one arriving request now.</summary>
    public void Record() => Add(1);

    /// <summary>Counts <paramref name="requests"/> arriving now (at least 0).</summary>
    internal void Add(double requests)
    {
        long now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            DecayTo(now);
            _count += requests;
        }
    }

    /// <summary>The arrival rate now, requests per second (Estimated: derived from counted arrivals).</summary>
    /// <returns>The rate, at most <see cref="PendingWork.MaxArrivalsPerSecond"/>.</returns>
    public Reading<double> Read()
    {
        DateTimeOffset now = _time.GetUtcNow();
        double rate;
        lock (_gate)
        {
            DecayTo(now.UtcTicks);
            rate = _count / _tauSeconds;
        }

        return Reading.Estimated(Math.Min(rate, PendingWork.MaxArrivalsPerSecond), now, _source);
    }

    // A clock set back leaves the count as it is (no growth from a negative interval).
    private void DecayTo(long nowTicks)
    {
        if (nowTicks > _atTicks)
        {
            _count *= Math.Exp(-(nowTicks - _atTicks) / (double)TimeSpan.TicksPerSecond / _tauSeconds);
            _atTicks = nowTicks;
        }
    }
}
