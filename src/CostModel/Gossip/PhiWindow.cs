using System.Runtime.CompilerServices;

namespace CostModel.Gossip;

/// <summary>
/// The state of one remote node's phi accrual failure detector as a value: the window's running
/// sums and the last arrival (32 bytes), kept inline in the gossip adapter's per-node record
/// (<see cref="PeerTable"/>), not as an object per (node, peer) pair. What every detector of one
/// adapter shares (the settings, the clock's conversions) is the <see cref="PhiParameters"/> passed
/// to each call. The maths are <see cref="PhiAccrualDetector"/>'s, which wraps one of these.
/// </summary>
internal struct PhiWindow
{
    // Samples in the window (the seeds included while they are in it), their sum and sum of squares (milliseconds).
    private int _count;

    // Bootstrap seeds still in the window: 2, then 1, then 0 as the first real samples overflow it.
    private byte _seeds;
    private bool _heard;
    private double _sum;
    private double _sumOfSquares;
    private long _lastArrival;

    /// <summary>Interval samples in the window (the two bootstrap samples included while they are).</summary>
    public readonly int SampleCount => _count;

    /// <summary>True once a heartbeat has arrived.</summary>
    public readonly bool HasHeartbeat => _heard;

    /// <summary>The mean of the intervals, in milliseconds (without the acceptable pause).</summary>
    public readonly double MeanIntervalMilliseconds => _sum / _count;

    /// <summary>The standard deviation of the intervals, in milliseconds (before the minimum is applied).</summary>
    public readonly double StandardDeviationMilliseconds => StdDevMs();

    /// <summary>A window seeded with the two bootstrap samples, no heartbeat heard yet.</summary>
    /// <param name="p">The settings and clock conversions.</param>
    /// <returns>The window.</returns>
    public static PhiWindow Start(PhiParameters p)
    {
        var window = default(PhiWindow);
        window.Add(p, p.FirstSeedMs);
        window.Add(p, p.SecondSeedMs);
        window._seeds = 2;
        return window;
    }

    /// <summary>Records that a message arrived from the node (<see cref="PhiAccrualDetector.Heartbeat"/>).</summary>
    /// <param name="p">The settings and clock conversions.</param>
    /// <param name="timestamp">The arrival, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    public void Heartbeat(PhiParameters p, long timestamp)
    {
        if (!_heard)
        {
            _heard = true;
            _lastArrival = timestamp;
            return;
        }

        long ticks = timestamp - _lastArrival;
        if (ticks <= 0)
        {
            // A duplicate or an older message: no interval, and the last arrival stays the later one.
            return;
        }

        _lastArrival = timestamp;
        double intervalMs = ticks / p.TicksPerMillisecond;
        if (intervalMs <= p.MaxIntervalMs)
        {
            Add(p, intervalMs);
        }
    }

    /// <summary>Time since the last heartbeat (<see cref="PhiAccrualDetector.Silence"/>).</summary>
    /// <param name="p">The settings and clock conversions.</param>
    /// <param name="nowTimestamp">Now, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <returns>The silence; zero before the first heartbeat or when now is before it.</returns>
    public readonly TimeSpan Silence(PhiParameters p, long nowTimestamp) =>
        _heard && nowTimestamp > _lastArrival
            ? new TimeSpan((long)((nowTimestamp - _lastArrival) * p.TimeSpanTicksPerTick))
            : TimeSpan.Zero;

    /// <summary>Phi now (<see cref="PhiAccrualDetector.Phi"/>).</summary>
    /// <param name="p">The settings and clock conversions.</param>
    /// <param name="nowTimestamp">Now, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <returns>Phi, 0 before the first heartbeat; finite, at least 0 and at most <see cref="PhiAccrualDetector.MaxPhi"/>.</returns>
    public readonly double Phi(PhiParameters p, long nowTimestamp)
    {
        if (!_heard)
        {
            return 0;
        }

        double silenceMs = nowTimestamp > _lastArrival ? (nowTimestamp - _lastArrival) / p.TicksPerMillisecond : 0;
        double meanMs = (_sum / _count) + p.PauseMs;
        double stdDevMs = Math.Max(StdDevMs(), p.MinStdDevMs);
        return PhiAccrualDetector.PhiOf(silenceMs, meanMs, stdDevMs);
    }

    /// <summary>The earliest timestamp at which phi can reach a threshold's point (<see cref="PhiAccrualDetector.TimestampAtDeviations"/>).</summary>
    /// <param name="p">The settings and clock conversions.</param>
    /// <param name="deviations">From <see cref="PhiAccrualDetector.DeviationsAt"/>.</param>
    /// <returns>A timestamp; <see cref="long.MaxValue"/> before the first heartbeat.</returns>
    public readonly long TimestampAtDeviations(PhiParameters p, double deviations)
    {
        if (!_heard)
        {
            return long.MaxValue;
        }

        double meanMs = (_sum / _count) + p.PauseMs;
        double stdDevMs = Math.Max(StdDevMs(), p.MinStdDevMs);
        return AfterLastArrival(p, meanMs + (deviations * stdDevMs));
    }

    /// <summary>The earliest timestamp at which the silence can reach <paramref name="silence"/> (<see cref="PhiAccrualDetector.TimestampAtSilence"/>).</summary>
    /// <param name="p">The settings and clock conversions.</param>
    /// <param name="silence">The silence.</param>
    /// <returns>A timestamp; <see cref="long.MaxValue"/> before the first heartbeat.</returns>
    public readonly long TimestampAtSilence(PhiParameters p, TimeSpan silence) =>
        _heard ? AfterLastArrival(p, silence.TotalMilliseconds) : long.MaxValue;

    private readonly long AfterLastArrival(PhiParameters p, double milliseconds)
    {
        double ticks = Math.Max(0, milliseconds - PhiAccrualDetector.DeadlineMarginMilliseconds) * p.TicksPerMillisecond;
        return ticks >= long.MaxValue - _lastArrival ? long.MaxValue : _lastArrival + (long)ticks;
    }

    private readonly double StdDevMs()
    {
        double mean = _sum / _count;

        // Equal samples can leave a rounding residue just below zero.
        return Math.Sqrt(Math.Max(0, (_sumOfSquares / _count) - (mean * mean)));
    }

    /// <summary>
    /// Adds a sample. Below a full window, to the sums. In a full window, the oldest bootstrap seed
    /// still in it leaves first (its value is known: the sums then hold exactly what a ring of the
    /// last samples would); once both have left, the sample weighs w = 1/window against the
    /// window's mean m and variance v: m' = m + w d, v' = (1 - w)(v + w d^2), with d = sample - m.
    /// </summary>
    private void Add(PhiParameters p, double intervalMs)
    {
        if (_count == p.Window && _seeds > 0)
        {
            double seed = _seeds == 2 ? p.FirstSeedMs : p.SecondSeedMs;
            _sum -= seed;
            _sumOfSquares -= seed * seed;
            _count--;
            _seeds--;
        }

        if (_count < p.Window)
        {
            _count++;
            _sum += intervalMs;
            _sumOfSquares += intervalMs * intervalMs;
            return;
        }

        double weight = 1.0 / _count;
        double mean = _sum / _count;
        double variance = Math.Max(0, (_sumOfSquares / _count) - (mean * mean));
        double difference = intervalMs - mean;
        mean += weight * difference;
        variance = (1 - weight) * (variance + (weight * difference * difference));
        _sum = mean * _count;
        _sumOfSquares = (variance + (mean * mean)) * _count;
    }
}

/// <summary>
/// What every phi detector made with one <see cref="LivenessSettings"/> and clock shares: the
/// settings and the clock's conversions, held once (an adapter makes all of its detectors with one
/// settings object), not copied into each of a large mesh's (node, peer) pairs.
/// </summary>
internal sealed class PhiParameters
{
    // Akka's bootstrap: two samples at the expected interval minus and plus a quarter of it.
    private const double BootstrapDeviationShare = 0.25;

    private const double MillisecondsPerSecond = 1_000;

    // What every detector made with the same settings shares.
    private static readonly ConditionalWeakTable<LivenessSettings, PhiParameters> s_parameters = [];

    private PhiParameters(LivenessSettings settings, long frequency)
    {
        Settings = settings;
        Frequency = frequency;
        TicksPerMillisecond = frequency / MillisecondsPerSecond;
        TimeSpanTicksPerTick = (double)TimeSpan.TicksPerSecond / frequency;
        Window = settings.SampleWindow;
        MinStdDevMs = settings.MinStandardDeviation.TotalMilliseconds;
        PauseMs = settings.AcceptableHeartbeatPause.TotalMilliseconds;
        MaxIntervalMs = settings.MaxRecordedInterval.TotalMilliseconds;
        double expected = settings.MaxSilence.TotalMilliseconds;
        FirstSeedMs = expected - (expected * BootstrapDeviationShare);
        SecondSeedMs = expected + (expected * BootstrapDeviationShare);
    }

    public LivenessSettings Settings { get; }

    public long Frequency { get; }

    public double TicksPerMillisecond { get; }

    public double TimeSpanTicksPerTick { get; }

    public int Window { get; }

    public double MinStdDevMs { get; }

    public double PauseMs { get; }

    public double MaxIntervalMs { get; }

    /// <summary>The bootstrap seeds: the heartbeat interval minus and plus a quarter of it.</summary>
    public double FirstSeedMs { get; }

    public double SecondSeedMs { get; }

    /// <summary>The parameters for these settings on this clock: those held for the settings when made for the same clock frequency, else new ones (held when none were).</summary>
    /// <param name="settings">The liveness settings.</param>
    /// <param name="timeProvider">The clock whose timestamps the detectors are given.</param>
    /// <returns>The parameters.</returns>
    /// <exception cref="ArgumentException">The clock's timestamp frequency is not positive.</exception>
    public static PhiParameters For(LivenessSettings settings, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        long frequency = timeProvider.TimestampFrequency;
        if (frequency <= 0)
        {
            throw new ArgumentException("The time provider's timestamp frequency must be positive.", nameof(timeProvider));
        }

        PhiParameters held = s_parameters.GetValue(settings, key => new PhiParameters(key, frequency));
        return held.Frequency == frequency ? held : new PhiParameters(settings, frequency);
    }
}
