using CostModel.Factors;

namespace CostModel.Collection;

/// <summary>
/// Battery and load trends from recent snapshots: the least-squares slope over a sliding time
/// window. A least-squares fit over a window (rather than the difference of two points) smooths
/// the 1 % steps in which many batteries report charge and the jitter of one-second utilisation.
/// </summary>
/// <remarks>
/// The battery window restarts whenever the charge state or power source changes, so a slope
/// never mixes charging with draining. A slope needs samples spanning at least a quarter of its
/// window (<see cref="MinimumSpanShare"/>); before that it is Unknown with the reason.
/// </remarks>
internal sealed class TrendEstimator
{
    /// <summary>A fit needs samples spanning a quarter of its window: with fewer, one step of a
    /// coarse battery gauge would dominate the slope.</summary>
    internal const double MinimumSpanShare = 0.25;

    /// <summary>
    /// The most samples a window keeps (one hour at one per second); bounds memory. A window holds them
    /// spread over its whole length: a sample closer than window / <see cref="MaxSamples"/> to the
    /// last one kept is left out (a 6-hour battery window keeps one every 6 s), so the fit always
    /// spans the window. Dropping the oldest instead would cut a long window to an hour of one-second
    /// samples, under the quarter of it a fit needs: a battery window over 4 hours never gave a trend.
    /// </summary>
    internal const int MaxSamples = 3_600;

    private const string Source = "least-squares slope over recent snapshots";

    private readonly TimeSpan _batteryWindow;
    private readonly TimeSpan _loadWindow;
    private readonly Queue<(DateTimeOffset At, double Value)> _battery = new();
    private readonly Queue<(DateTimeOffset At, double Value)> _load = new();
    private DateTimeOffset _batteryLastAt;
    private DateTimeOffset _loadLastAt;
    private (PowerSource?, ChargeState?) _batteryRegime;

    public TrendEstimator(CollectionOptions options)
    {
        _batteryWindow = options.BatteryTrendWindow;
        _loadWindow = options.LoadTrendWindow;
    }

    /// <summary>Adds a snapshot and returns it with its trends filled in.</summary>
    public NodeCostFactors Add(NodeCostFactors snapshot)
    {
        DateTimeOffset now = snapshot.CapturedAt;
        PowerFactors power = snapshot.Power;
        (PowerSource?, ChargeState?) regime = (
            power.Source.HasValue ? power.Source.Value : null,
            power.ChargeState.HasValue ? power.ChargeState.Value : null);
        if (regime != _batteryRegime)
        {
            _battery.Clear();
            _batteryRegime = regime;
        }

        Reading<double> batteryTrend;
        if (power.BatteryPercent.TryGetValue(out double percent))
        {
            Push(_battery, ref _batteryLastAt, now, percent, _batteryWindow);
            batteryTrend = Slope(_battery, _batteryWindow, now, perSeconds: 3600, TrendFactors.MaxPercentPerHour);
        }
        else
        {
            _battery.Clear();
            batteryTrend = power.BatteryPercent.Quality == SignalQuality.NotSupported
                ? Reading.NotSupported<double>(power.BatteryPercent.Reason!, now)
                : Reading.Unknown<double>($"battery level unknown: {power.BatteryPercent.Reason}", now);
        }

        Reading<double> loadTrend;
        if (snapshot.Compute.CpuUtilization.TryGetValue(out double utilisation))
        {
            Push(_load, ref _loadLastAt, now, utilisation, _loadWindow);
            loadTrend = Slope(_load, _loadWindow, now, perSeconds: 60, TrendFactors.MaxLoadSlopePerMinute);
        }
        else
        {
            _load.Clear();
            loadTrend = Reading.Unknown<double>($"CPU utilisation unknown: {snapshot.Compute.CpuUtilization.Reason}", now);
        }

        return snapshot with
        {
            Trends = new TrendFactors { BatteryPercentPerHour = batteryTrend, LoadSlopePerMinute = loadTrend },
        };
    }

    // lastAt: when the newest sample kept was taken (read only while the queue holds samples). A clock
    // stepped back keeps its sample, as before the spacing.
    private static void Push(Queue<(DateTimeOffset At, double Value)> samples, ref DateTimeOffset lastAt, DateTimeOffset now, double value, TimeSpan window)
    {
        if (samples.Count == 0 || now < lastAt || now - lastAt >= window / MaxSamples)
        {
            samples.Enqueue((now, value));
            lastAt = now;
        }

        while (samples.Count > MaxSamples || (samples.Count > 0 && now - samples.Peek().At > window))
        {
            samples.Dequeue();
        }
    }

    private static Reading<double> Slope(Queue<(DateTimeOffset At, double Value)> samples, TimeSpan window, DateTimeOffset now, double perSeconds, double bound)
    {
        if (samples.Count < 2 || now - samples.Peek().At < window * MinimumSpanShare)
        {
            return Reading.Unknown<double>(
                $"collecting: a trend needs samples over {(window * MinimumSpanShare).TotalSeconds:0} s", now);
        }

        // Least squares on (seconds since the first sample, value).
        DateTimeOffset origin = samples.Peek().At;
        double n = 0, sumX = 0, sumY = 0, sumXx = 0, sumXy = 0;
        foreach ((DateTimeOffset at, double value) in samples)
        {
            double x = (at - origin).TotalSeconds;
            n++;
            sumX += x;
            sumY += value;
            sumXx += x * x;
            sumXy += x * value;
        }

        double denominator = (n * sumXx) - (sumX * sumX);
        if (denominator <= 0)
        {
            return Reading.Unknown<double>("collecting: samples share one timestamp", now);
        }

        double slope = ((n * sumXy) - (sumX * sumY)) / denominator * perSeconds;
        return Reading.Estimated(Math.Clamp(slope, -bound, bound), now, Source);
    }
}
