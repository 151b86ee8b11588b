namespace CostModel.Factors;

/// <summary>Where the node's power comes from and, on a battery, how much is left and where it is heading.</summary>
public sealed record PowerFactors
{
    /// <summary>Mains, battery or UPS. NotSupported only where the platform gives no power information at all.</summary>
    public Reading<PowerSource> Source { get; init; }

    /// <summary>Number of system batteries (device batteries such as mice are excluded). 0 is a measured "no battery".</summary>
    public Reading<int> BatteryCount { get; init => field = FactorGuard.NonNegative(value, nameof(BatteryCount)); }

    /// <summary>Charge of all system batteries together, in percent (0 to 100). NotSupported without a battery.</summary>
    public Reading<double> BatteryPercent { get; init => field = FactorGuard.Range(value, 0, 100, nameof(BatteryPercent)); }

    /// <summary>Charging, discharging, full or not charging.</summary>
    public Reading<ChargeState> ChargeState { get; init; }

    /// <summary>Power flowing into or out of the batteries, in watts, as a magnitude (direction from <see cref="ChargeState"/>).</summary>
    public Reading<double> BatteryRateWatts { get; init => field = FactorGuard.Range(value, 0, MaxBatteryRateWatts, nameof(BatteryRateWatts)); }

    /// <summary>Energy left in the batteries, in watt-hours.</summary>
    public Reading<double> RemainingWattHours { get; init => field = FactorGuard.Range(value, 0, MaxBatteryWattHours, nameof(RemainingWattHours)); }

    /// <summary>Energy of the full batteries, in watt-hours (the reserve in absolute terms).</summary>
    public Reading<double> FullWattHours { get; init => field = FactorGuard.Range(value, 0, MaxBatteryWattHours, nameof(FullWattHours)); }

    /// <summary>Seconds until empty at the present rate, while discharging.</summary>
    public Reading<double> TimeToEmptySeconds { get; init => field = FactorGuard.Range(value, 0, MaxTimeSeconds, nameof(TimeToEmptySeconds)); }

    /// <summary>
    /// True while the operating system's energy or battery saver is on (Windows battery saver,
    /// macOS Low Power Mode, Linux power-profiles-daemon's power-saver): the user or the OS asked
    /// this machine to save energy, so the scorer prices its battery as scarcer
    /// (<c>Scoring:EnergySaverBatteryPercent</c>). Unknown where the platform's probe does not read it.
    /// </summary>
    public Reading<bool> EnergySaver { get; init; }

    /// <summary>Seconds until full at the present rate, while charging.</summary>
    public Reading<double> TimeToFullSeconds { get; init => field = FactorGuard.Range(value, 0, MaxTimeSeconds, nameof(TimeToFullSeconds)); }

    // Bounds that reject absurd values, not physical limits of any particular machine:
    // a laptop draws well under 300 W and packs under 100 Wh (air-travel limit); a UPS or a
    // power station is far larger, so the bounds are 10 kW, 100 kWh and 30 days.
    /// <summary>10 kW: the largest battery charge or discharge rate the model accepts.</summary>
    public const double MaxBatteryRateWatts = 10_000;

    /// <summary>100 kWh: the largest battery energy the model accepts.</summary>
    public const double MaxBatteryWattHours = 100_000;

    /// <summary>30 days, in seconds: the longest time to empty or to full the model accepts.</summary>
    public const double MaxTimeSeconds = 30 * 24 * 3600;
}
