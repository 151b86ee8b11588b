using CostModel.Factors;

namespace CostModel.Platforms.Windows.Power;

/// <summary>
/// The values <c>GetSystemPowerStatus</c> and <c>SYSTEM_BATTERY_STATE</c> can hold on a working
/// machine. A value outside is Unknown with the raw value in the reason
/// (<see cref="Plausible.Reason"/>), reported with the kind <see cref="Plausible.OutOfRangeKind"/>.
/// The sentinels (255, 0xFFFFFFFF, <c>BATTERY_UNKNOWN_RATE</c>) are handled before these ranges.
/// </summary>
internal static class PowerPlausible
{
    /// <summary><c>ACLineStatus</c>: 0 offline, 1 online, 2 backup power (winbase.h <c>AC_LINE_BACKUP_POWER</c>); 255 (unknown) is handled before.</summary>
    internal static readonly PlausibleRange AcLineStatus = new(
        "AC line status", 0, 2, "",
        "0 offline, 1 online, 2 backup power (SYSTEM_POWER_STATUS, winbase.h AC_LINE_*); 255 is unknown");

    /// <summary>
    /// <c>BatteryFlag</c> apart from 128 (no system battery) and 255 (unknown): a combination of
    /// the bits 1 (high), 2 (low), 4 (critical) and 8 (charging), 0 to 15.
    /// </summary>
    internal static readonly PlausibleRange BatteryFlag = new(
        "battery flag", 0, 15, "",
        "a combination of 1 high, 2 low, 4 critical and 8 charging, or 128 no system battery, or 255 unknown (SYSTEM_POWER_STATUS)");

    /// <summary><c>BatteryLifePercent</c>: 0 to 100 %; 255 (unknown) is handled before.</summary>
    internal static readonly PlausibleRange BatteryLifePercent = new(
        "battery life percent", 0, 100, "%",
        "a percentage of the full charge, 255 when unknown (SYSTEM_POWER_STATUS)");

    /// <summary><c>SystemStatusFlag</c>: 0 (battery saver off) or 1 (on), per the SYSTEM_POWER_STATUS documentation.</summary>
    internal static readonly PlausibleRange SystemStatusFlag = new(
        "system status flag", 0, 1, "",
        "0 battery saver off, 1 battery saver on (SYSTEM_POWER_STATUS, Windows 10 and later)");

    /// <summary>
    /// <c>MaxCapacity</c> and <c>RemainingCapacity</c>: 0 to 1e8 mWh, the model's largest battery
    /// (<see cref="PowerFactors.MaxBatteryWattHours"/>, 100 kWh: a large UPS; laptop packs are under 100 Wh).
    /// </summary>
    internal static readonly PlausibleRange CapacityMilliwattHours = new(
        "battery capacity", 0, PowerFactors.MaxBatteryWattHours * 1000, "mWh",
        "at most 100 kWh, the model's largest battery (a large UPS; laptop packs are under 100 Wh)");

    /// <summary>
    /// The smallest <c>MaxCapacity</c> read as milliwatt-hours: 1 000 mWh (1 Wh). The smallest
    /// system batteries (phones, small tablets) hold about 10 Wh; a battery whose driver reports
    /// <c>BATTERY_CAPACITY_RELATIVE</c> (IOCTL_BATTERY_QUERY_INFORMATION, BatteryInformation)
    /// gives capacities in relative units, typically 100 for full, which
    /// <c>SYSTEM_BATTERY_STATE</c> passes on without a flag. Below 1 Wh the units are not mWh.
    /// </summary>
    internal static readonly PlausibleRange FullCapacityMilliwattHours = CapacityMilliwattHours with
    {
        What = "full battery capacity",
        Min = 1000,
        Why = "a system battery holds more than 1 Wh (the smallest hold about 10 Wh); less is a battery reporting relative units (BATTERY_CAPACITY_RELATIVE), not mWh; at most 100 kWh, the model's largest battery",
    };

    /// <summary>
    /// How far above <c>MaxCapacity</c> <c>RemainingCapacity</c> may read, as a ratio: 1.25, the
    /// Linux probe's bound for <c>energy_now</c> over <c>energy_full</c> (docs/linux/power.md): a
    /// gauge that learned a smaller full capacity reads a few percent over until it learns again
    /// (that reads as 100 %); a quarter or more over means one of the two is wrong.
    /// </summary>
    internal const double MaxRemainingOverFull = 1.25;

    /// <summary>The magnitude of <c>Rate</c>: 0 to 1e7 mW, the model's bound (<see cref="PowerFactors.MaxBatteryRateWatts"/>, 10 kW).</summary>
    internal static readonly PlausibleRange RateMilliwatts = new(
        "battery rate", 0, PowerFactors.MaxBatteryRateWatts * 1000, "mW",
        "at most 10 kW, the model's bound (a laptop draws under 300 W, a UPS a few kW)");

    /// <summary><c>EstimatedTime</c> and <c>BatteryLifeTime</c>: 0 to 30 days in seconds (<see cref="PowerFactors.MaxTimeSeconds"/>); 0xFFFFFFFF (unknown) is handled before.</summary>
    internal static readonly PlausibleRange TimeSeconds = new(
        "battery time", 0, PowerFactors.MaxTimeSeconds, "s",
        "at most 30 days, the model's bound; 0xFFFFFFFF is unknown");
}
