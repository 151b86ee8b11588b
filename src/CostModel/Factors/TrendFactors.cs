namespace CostModel.Factors;

/// <summary>Where the node is heading, from recent snapshots (always <see cref="SignalQuality.Estimated"/> when known).</summary>
public sealed record TrendFactors
{
    /// <summary>Battery charge change in percentage points per hour: negative while draining.</summary>
    public Reading<double> BatteryPercentPerHour { get; init => field = FactorGuard.Range(value, -MaxPercentPerHour, MaxPercentPerHour, nameof(BatteryPercentPerHour)); }

    /// <summary>Change of CPU utilisation per minute (utilisation is 0 to 1): positive while load rises.</summary>
    public Reading<double> LoadSlopePerMinute { get; init => field = FactorGuard.Range(value, -MaxLoadSlopePerMinute, MaxLoadSlopePerMinute, nameof(LoadSlopePerMinute)); }

    /// <summary>3,600 %/h: the steepest battery trend the model accepts (fast charging fills a phone in about 15 minutes, 400 %/h).</summary>
    public const double MaxPercentPerHour = 3_600;

    /// <summary>60 per minute: the steepest load trend the model accepts (utilisation spans 0..1; idle to full in one second).</summary>
    public const double MaxLoadSlopePerMinute = 60;
}
