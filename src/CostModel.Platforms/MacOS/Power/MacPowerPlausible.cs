using CostModel.Factors;

namespace CostModel.Platforms.MacOS.Power;

/// <summary>
/// The values the macOS power sources and the <c>AppleSmartBattery</c> entry can hold on a
/// working Mac, in the units they are published in. A value outside is Unknown with the raw
/// value in the reason (<see cref="Plausible.Reason"/>), never clamped.
/// </summary>
internal static class MacPowerPlausible
{
    /// <summary>
    /// <c>Amperage</c> / <c>InstantAmperage</c>: -20 000 to 20 000 mA, signed (negative while
    /// discharging). Recorded MacBooks charge at up to about 5.5 A and discharge at up to about
    /// 7 A (<c>LifetimeData</c> <c>MaximumChargeCurrent</c> 5345 to 5467 mA,
    /// <c>MaximumDischargeCurrent</c> -3001 to -6873 mA); 20 A is far above any Mac pack. OS X 10.9
    /// published the gauge's 16-bit register unsigned (60 000 mA and more for a small discharge,
    /// Apple bug 15394253): that value lands outside and reads Unknown instead of 780 W.
    /// </summary>
    internal static readonly PlausibleRange BatteryCurrentMilliAmps = new(
        "battery current", -20_000, 20_000, "mA",
        "Mac packs charge below 6 A and discharge below 8 A; a 16-bit register read unsigned (OS X 10.9, Apple bug 15394253) reads 60000 and more");

    /// <summary>
    /// <c>Voltage</c>: 1 to 30 000 mV. Mac packs are 2 to 4 lithium-ion cells in series (6 to
    /// 17.6 V); 0 would make every energy 0 Wh, and 30 V is above any such pack.
    /// </summary>
    internal static readonly PlausibleRange BatteryVoltageMilliVolts = new(
        "battery voltage", 1, 30_000, "mV",
        "Mac packs are 2 to 4 lithium-ion cells in series, 6 to 17.6 V; 0 makes no energy");

    /// <summary>
    /// <c>AppleRawCurrentCapacity</c>, <c>AppleRawMaxCapacity</c> (and, before them, <c>CurrentCapacity</c>,
    /// <c>MaxCapacity</c> in mAh): 0 to 100 000 mAh. MacBook packs hold 4 000 to 9 000 mAh.
    /// </summary>
    internal static readonly PlausibleRange BatteryChargeMilliAmpHours = new(
        "battery charge", 0, 100_000, "mAh",
        "MacBook packs hold 4000 to 9000 mAh; 100000 mAh at 30 V is above the model's largest battery");

    /// <summary>
    /// A power source's <c>Current Capacity</c> and <c>Max Capacity</c>: 0 to 100 000. Percent
    /// units on a modern Mac (<c>Max Capacity</c> 100; IOPSKeys.h), mAh on older ones and on some
    /// UPSes; either way a non-negative count far below 100 000.
    /// </summary>
    internal static readonly PlausibleRange SourceCapacity = new(
        "power source capacity", 0, 100_000, "",
        "percent on a modern Mac (Max Capacity 100), mAh on older ones; never negative or above 100000");

    /// <summary>
    /// A power source's <c>Time to Empty</c> and <c>Time to Full Charge</c>: 0 to 43 200 minutes
    /// (30 days, <see cref="PowerFactors.MaxTimeSeconds"/>); -1 ("still calculating", IOPSKeys.h)
    /// is handled before the range.
    /// </summary>
    internal static readonly PlausibleRange SourceMinutes = new(
        "power source time", 0, PowerFactors.MaxTimeSeconds / 60, "min",
        "minutes up to 30 days, the model's bound; -1 means still calculating (IOPSKeys.h)");
}
