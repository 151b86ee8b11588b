namespace CostModel.Gossip;

/// <summary>
/// The phi accrual failure detector (Hayashibara et al., 2004) for one remote node, as in Akka,
/// Cassandra and chitchat: instead of a yes/no timeout it reports phi, the suspicion that the
/// node has failed given how long it has been silent and how regularly it was heard before.
/// </summary>
/// <remarks>
/// <para>
/// <b>Time.</b> Every timestamp is a <see cref="TimeProvider.GetTimestamp"/> value of the time
/// provider given to the constructor: monotonic, so a wall-clock step (NTP, a user changing the
/// clock) neither convicts nor revives a node. Intervals are kept in milliseconds.
/// </para>
/// <para>
/// <b>Model.</b> Inter-arrival intervals are assumed normally distributed with the mean and
/// standard deviation of the last <see cref="LivenessSettings.SampleWindow"/> samples, kept as
/// running sums rather than a buffer of samples (800 bytes at the default window of 200, for
/// every remote node: each node of a large mesh keeps a detector for every other). Until the
/// window is full, and while the two bootstrap seeds leave it, the figures are exactly the
/// window's (the seeds' values are known, so they are taken out of the sums as a ring of samples
/// would drop them). From then on a new sample weighs 1/<see cref="LivenessSettings.SampleWindow"/>
/// and older ones fade geometrically (an exponentially weighted mean and variance on the
/// window's time scale) instead of dropping out one by one: a regular history gives the same
/// figures, a changing one moves to its new rhythm over about a window of samples, as before.
/// The mean is extended by <see cref="LivenessSettings.AcceptableHeartbeatPause"/>
/// and the deviation is at least <see cref="LivenessSettings.MinStandardDeviation"/>. Then
/// phi = -log10(1 - F(t)), with F the normal CDF in Akka's logistic approximation
/// F(y) = 1 / (1 + e^(-y(1.5976 + 0.070566 y^2))) (Bowling et al., 2009), evaluated in log space so
/// that phi is finite for any silence: it is clamped to [0, <see cref="MaxPhi"/>] and never NaN.
/// </para>
/// <para>
/// <b>Bootstrap.</b> Like Akka, the history starts with two samples of
/// <see cref="LivenessSettings.MaxSilence"/> +/- a quarter (mean: the heartbeat interval;
/// deviation: a quarter of it), so a node heard from once is judged as if it heartbeats every
/// <see cref="LivenessSettings.MaxSilence"/>. The seeds leave the window as real samples fill it.
/// </para>
/// <para>
/// <b>Edges.</b> An arrival at or before the last one (a duplicate, a reordered message) adds
/// no sample and does not move the last arrival back. An interval longer than
/// <see cref="LivenessSettings.MaxRecordedInterval"/> (a partition, a sleeping laptop) moves the
/// last arrival but is not recorded, as Cassandra does. Silence before the last arrival counts as 0.
/// </para>
/// <para>
/// Not thread-safe: the gossip adapter calls it under its view's gate (as it does
/// <see cref="SenderProofs"/>), so a lock of its own would only add one object per remote node
/// (each node of a large mesh keeps a detector for every other). No call allocates. What every detector of one adapter
/// shares (the settings and the clock's conversions) is held once, not copied into each.
/// </para>
/// </remarks>
internal sealed class PhiAccrualDetector
{
    /// <summary>
    /// 1,000: the largest phi reported, a 10^-1000 chance; far beyond any meaningful threshold,
    /// and it keeps phi finite however long the silence.
    /// </summary>
    public const double MaxPhi = 1_000;

    // Akka's logistic approximation of the standard normal CDF: F(y) = 1 / (1 + exp(-y (A + B y^2))).
    private const double LogisticLinear = 1.5976;
    private const double LogisticCubic = 0.070566;

    private readonly PhiParameters _p;

    // The window's sums and the last arrival: the same struct the gossip adapter keeps inline per remote node.
    private PhiWindow _window;

    /// <summary>Creates a detector for one remote node, seeded with the bootstrap samples.</summary>
    /// <param name="settings">The window, minimum deviation, acceptable pause and heartbeat interval.</param>
    /// <param name="timeProvider">The clock whose <see cref="TimeProvider.GetTimestamp"/> values the caller passes in.</param>
    public PhiAccrualDetector(LivenessSettings settings, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _p = PhiParameters.For(settings, timeProvider);
        _window = PhiWindow.Start(_p);
    }

    /// <summary>The settings.</summary>
    public LivenessSettings Settings => _p.Settings;

    /// <summary>Interval samples in the window (the two bootstrap samples included while they are); at most <see cref="LivenessSettings.SampleWindow"/>.</summary>
    public int SampleCount => _window.SampleCount;

    /// <summary>True once a heartbeat has arrived.</summary>
    public bool HasHeartbeat => _window.HasHeartbeat;

    /// <summary>The mean of the intervals, in milliseconds (without the acceptable pause).</summary>
    public double MeanIntervalMilliseconds => _window.MeanIntervalMilliseconds;

    /// <summary>The standard deviation of the intervals, in milliseconds (before the minimum is applied).</summary>
    public double StandardDeviationMilliseconds => _window.StandardDeviationMilliseconds;

    /// <summary>The settings and clock conversions this detector works with.</summary>
    internal PhiParameters Parameters => _p;

    /// <summary>The window's state (read-only), as <see cref="LivenessPolicy"/> reads it.</summary>
    internal ref readonly PhiWindow Window => ref _window;

    /// <summary>Records that a message arrived from the node.</summary>
    /// <param name="timestamp">The arrival, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    public void Heartbeat(long timestamp) => _window.Heartbeat(_p, timestamp);

    /// <summary>Time since the last heartbeat; zero before the first one or when <paramref name="nowTimestamp"/> is before it.</summary>
    /// <param name="nowTimestamp">Now, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    public TimeSpan Silence(long nowTimestamp) => _window.Silence(_p, nowTimestamp);

    /// <summary>
    /// The suspicion that the node has failed: -log10 of the probability that a live node would
    /// stay silent this long. 0 before the first heartbeat; finite, at least 0 and at most <see cref="MaxPhi"/>.
    /// </summary>
    /// <param name="nowTimestamp">Now, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <returns>Phi (1: a 10 % chance of a false suspicion; 8: 10^-8).</returns>
    public double Phi(long nowTimestamp) => _window.Phi(_p, nowTimestamp);

    /// <summary>
    /// The earliest timestamp at which <see cref="Phi"/> can reach a threshold if no heartbeat
    /// arrives first, given the threshold's point <paramref name="deviations"/> on the standard
    /// scale (<see cref="DeviationsAt"/>); a little early rather than late (by
    /// <see cref="DeadlineMarginMilliseconds"/>), and <see cref="long.MaxValue"/> before the first
    /// heartbeat (phi stays 0).
    /// </summary>
    /// <param name="deviations">From <see cref="DeviationsAt"/>.</param>
    /// <returns>A timestamp of the constructor's time provider.</returns>
    public long TimestampAtDeviations(double deviations) => _window.TimestampAtDeviations(_p, deviations);

    /// <summary>
    /// The earliest timestamp at which <see cref="Silence"/> can reach <paramref name="silence"/>
    /// if no heartbeat arrives first; a little early rather than late (by
    /// <see cref="DeadlineMarginMilliseconds"/>), and <see cref="long.MaxValue"/> before the first heartbeat.
    /// </summary>
    /// <param name="silence">The silence.</param>
    /// <returns>A timestamp of the constructor's time provider.</returns>
    public long TimestampAtSilence(TimeSpan silence) => _window.TimestampAtSilence(_p, silence);

    /// <summary>
    /// Where phi reaches <paramref name="threshold"/> on the standard scale: the least y with
    /// <c>PhiOf(y, 0, 1) &gt;= threshold</c>, so that a node silent for mean + y x deviation has
    /// phi at or above the threshold. Found by bisection on the same formula <see cref="Phi"/> uses.
    /// </summary>
    /// <param name="threshold">Greater than 0, at most <see cref="MaxPhi"/>.</param>
    /// <returns>The point, in standard deviations (negative when the threshold is below phi at the mean).</returns>
    public static double DeviationsAt(double threshold)
    {
        // phi(-100) is 0 to double precision and phi(100) is past MaxPhi: the crossing lies between.
        double low = -BisectionBound;
        double high = BisectionBound;
        for (int i = 0; i < BisectionSteps; i++)
        {
            double middle = (low + high) / 2;
            if (PhiOf(middle, 0, 1) >= threshold)
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }

        return high;
    }

    /// <summary>Phi of a silence under a normal distribution, in Akka's logistic approximation, computed without overflow.</summary>
    /// <param name="silenceMs">The silence, milliseconds.</param>
    /// <param name="meanMs">The expected interval, milliseconds.</param>
    /// <param name="stdDevMs">The standard deviation, milliseconds (positive).</param>
    /// <returns>Phi, clamped to [0, <see cref="MaxPhi"/>].</returns>
    internal static double PhiOf(double silenceMs, double meanMs, double stdDevMs)
    {
        double y = (silenceMs - meanMs) / stdDevMs;
        double z = y * (LogisticLinear + (LogisticCubic * y * y));

        // 1 - F = 1 / (1 + e^z), so phi = log10(1 + e^z): a softplus, evaluated so that e^z never overflows.
        double lnOnePlusExp = z > 0 ? z + double.LogP1(Math.Exp(-z)) : double.LogP1(Math.Exp(z));
        double phi = lnOnePlusExp / Math.Log(10);
        return double.IsNaN(phi) ? MaxPhi : Math.Clamp(phi, 0, MaxPhi);
    }

    // Deadlines are moved this much earlier, so that rounding (of the deviation point, of the
    // timestamp conversion) can only make a check run early, never late.
    internal const double DeadlineMarginMilliseconds = 1;

    private const double BisectionBound = 100;

    // 200 halvings of [-100, 100]: far below double precision.
    private const int BisectionSteps = 200;
}
