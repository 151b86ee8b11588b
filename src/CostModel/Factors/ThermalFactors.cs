namespace CostModel.Factors;

/// <summary>Heat and clock throttling.</summary>
public sealed record ThermalFactors
{
    /// <summary>Coarse thermal pressure on one scale for every platform.</summary>
    public Reading<ThermalLevel> Level { get; init; }

    /// <summary>Share of CPU clock lost to throttling, 0 (none) to 1 (stopped): 1 - current / maximum frequency.</summary>
    public Reading<double> ThrottleRatio { get; init => field = FactorGuard.Range(value, 0, 1, nameof(ThrottleRatio)); }

    /// <summary>The hottest sensor reading, in degrees Celsius.</summary>
    public Reading<double> HottestCelsius { get; init => field = FactorGuard.Range(value, MinPlausibleCelsius, MaxPlausibleCelsius, nameof(HottestCelsius)); }

    /// <summary>Throttle events counted by the hardware since the previous snapshot.</summary>
    public Reading<long> ThrottleEvents { get; init => field = FactorGuard.NonNegative(value, nameof(ThrottleEvents)); }

    /// <summary>
    /// -55 C: the lowest temperature the model accepts (a probe may be stricter). Silicon sensors
    /// read from about -40 C (cold start outdoors); below -55 C a reading is a driver error.
    /// </summary>
    public const double MinPlausibleCelsius = -55;

    /// <summary>
    /// 150 C: the highest temperature the model accepts. Junction maxima of most CPUs and GPUs are
    /// about 100 to 125 C; above 150 C a reading is a driver error.
    /// </summary>
    public const double MaxPlausibleCelsius = 150;
}
