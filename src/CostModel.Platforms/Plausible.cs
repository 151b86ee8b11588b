using System.Globalization;
using CostModel.Factors;

namespace CostModel.Platforms;

/// <summary>
/// The values a kernel file can hold on a working machine: a range with its unit and the reason
/// for its bounds. A value outside it comes from a broken driver, a sentinel or a hostile tree,
/// and its reading is Unknown with the raw text in the reason (<see cref="Plausible.Reason"/>).
/// </summary>
/// <param name="What">What the value is ("load average"), for the reason.</param>
/// <param name="Min">The smallest plausible value, inclusive.</param>
/// <param name="Max">The largest plausible value, inclusive.</param>
/// <param name="Unit">The unit of <paramref name="Min"/> and <paramref name="Max"/> ("C", "%", "" for a count).</param>
/// <param name="Why">Where the bounds come from.</param>
internal sealed record PlausibleRange(string What, double Min, double Max, string Unit, string Why)
{
    /// <summary>True when <paramref name="value"/> is within the bounds (NaN is not).</summary>
    public bool Contains(double value) => value >= Min && value <= Max;
}

/// <summary>
/// The plausible ranges of the values the platform probes read (Linux, Windows, macOS, GPUs), and the one builder of the
/// "implausible value" reasons (the probes report them with the failure kind "out-of-range").
/// </summary>
internal static class Plausible
{
    /// <summary>The failure kind of an implausible value.</summary>
    internal const string OutOfRangeKind = "out-of-range";

    /// <summary>
    /// The 1-minute load average of <c>/proc/loadavg</c>, in tasks: 0 to 4 194 304, the 64-bit
    /// kernels' PID_MAX_LIMIT (include/linux/threads.h, 4 x 1024 x 1024). The load average is a
    /// decaying mean of runnable plus uninterruptible tasks, each of which holds a PID, so it
    /// cannot exceed the number of PIDs; load per core is this divided by the effective cores.
    /// </summary>
    internal static readonly PlausibleRange LoadAverage = new(
        "load average", 0, 4_194_304, "tasks",
        "it averages runnable and uninterruptible tasks, which cannot outnumber PID_MAX_LIMIT (4194304) on a 64-bit kernel");

    /// <summary>
    /// A temperature sensor (thermal zone, hwmon channel, GPU): -40 to 150 C. -40 C is the lowest
    /// operating temperature of industrial and automotive grade parts (JEDEC JESD47 and AEC-Q100
    /// grades 1 to 3 all start at -40 C), and a running machine warms its sensors above ambient;
    /// below it a sensor is open or unconnected (an NTC thermistor with an open circuit reads
    /// very cold) or a driver sentinel (-273.2 C, -128 C). 150 C is above every silicon junction
    /// limit (CPUs and GPUs throttle by 105 to 110 C, and a thermal zone's critical trip shuts the
    /// machine down before that); above it the reading is a fault (255 C, 0x7FFF register values).
    /// </summary>
    internal static readonly PlausibleRange SensorCelsius = new(
        "temperature", -40, ThermalFactors.MaxPlausibleCelsius, "C",
        "a running machine's sensors stay between -40 C, the lowest rating of industrial parts, and 150 C, above every silicon junction limit; outside it a sensor is open or a driver sentinel");

    /// <summary>
    /// A battery's <c>capacity</c>: 0 to 100 % inclusive, a percentage of the full charge
    /// (Documentation/ABI/testing/sysfs-class-power). A fuel gauge that reports more is broken,
    /// and clamping it would pass a guess off as a measurement.
    /// </summary>
    internal static readonly PlausibleRange BatteryCapacityPercent = new(
        "battery capacity", 0, 100, "%",
        "a percentage of the full charge (Documentation/ABI/testing/sysfs-class-power)");

    /// <summary>
    /// A battery's <c>energy_now</c>, <c>energy_full</c>: 0 to 1e11 uWh, the model's largest
    /// battery (<see cref="PowerFactors.MaxBatteryWattHours"/>, 100 kWh: a large UPS or power
    /// station; a laptop pack is under 100 Wh). A larger full value would make a percentage out of
    /// nonsense (1 uWh of 307 kWh reads 3.25E-10 %).
    /// </summary>
    internal static readonly PlausibleRange BatteryEnergyMicroWattHours = new(
        "battery energy", 0, PowerFactors.MaxBatteryWattHours * 1e6, "uWh",
        "at most 100 kWh, the model's largest battery (a large UPS; laptop packs are under 100 Wh)");

    /// <summary>
    /// A battery's <c>charge_now</c>, <c>charge_full</c>: 0 to 1e11 uAh (100 kAh). A charge is
    /// energy divided by the pack voltage; 100 kWh at the lowest pack voltage, a single 1 V cell,
    /// is 100 kAh, so any real pack's charge is below it.
    /// </summary>
    internal static readonly PlausibleRange BatteryChargeMicroAmpHours = new(
        "battery charge", 0, 1e11, "uAh",
        "at most 100 kAh: the model's largest battery, 100 kWh, at a pack voltage of 1 V");

    /// <summary>
    /// A battery's <c>voltage_now</c>, <c>voltage_min_design</c>: 1 uV to 1 000 V. A pack has a
    /// voltage above 0 (0 would make every charge 0 Wh), and the largest packs in use, 800 V
    /// electric vehicle and UPS strings, are below 1 000 V.
    /// </summary>
    internal static readonly PlausibleRange BatteryVoltageMicroVolts = new(
        "battery voltage", 1, 1e9, "uV",
        "above 0 and at most 1000 V, above the largest packs in use (800 V)");

    /// <summary>
    /// The battery rate (the sum of <c>power_now</c>, or <c>current_now</c> x <c>voltage_now</c>):
    /// 0 to 10 kW, the model's bound (<see cref="PowerFactors.MaxBatteryRateWatts"/>: a laptop draws
    /// well under 300 W, a UPS a few kW).
    /// </summary>
    internal static readonly PlausibleRange BatteryRateWatts = new(
        "battery rate", 0, PowerFactors.MaxBatteryRateWatts, "W",
        "at most 10 kW, the model's bound (a laptop draws under 300 W, a UPS a few kW)");

    /// <summary>A battery's <c>present</c>: 0 (an empty slot) or 1 (Documentation/ABI/testing/sysfs-class-power).</summary>
    internal static readonly PlausibleRange BatteryPresent = new(
        "battery presence", 0, 1, "",
        "0 for an empty slot, 1 for a battery (Documentation/ABI/testing/sysfs-class-power)");

    /// <summary>
    /// A power supply's <c>online</c>: 0 (offline), 1 (online, fixed voltage) or 2 (online,
    /// programmable voltage: USB PD), per Documentation/ABI/testing/sysfs-class-power. Any other
    /// value says nothing about mains power and is Unknown, never "online".
    /// </summary>
    internal static readonly PlausibleRange SupplyOnline = new(
        "power supply online state", 0, 2, "",
        "0 offline, 1 online with a fixed voltage, 2 online with a programmable voltage (Documentation/ABI/testing/sysfs-class-power)");

    /// <summary>
    /// A GPU's memory (VRAM total and used): 0 to 16 TiB. The largest single-GPU memories in 2025
    /// are 288 GB (AMD MI355X, NVIDIA B300); 16 TiB leaves room for fifty times that and still
    /// rejects sentinels such as 2^63-1 (9.2E18). Used must also not exceed total.
    /// </summary>
    internal static readonly PlausibleRange GpuMemoryBytes = new(
        "GPU memory", 0, 16L << 40, "bytes",
        "at most 16 TiB, fifty times the largest GPU memory of 2025 (288 GB)");

    /// <summary>amdgpu's <c>gpu_busy_percent</c>: 0 to 100 %, a percentage of time the GPU was busy.</summary>
    internal static readonly PlausibleRange GpuBusyPercent = new(
        "GPU busy percentage", 0, 100, "%", "a percentage of time");

    /// <summary>
    /// A GPU's power (hwmon <c>power1_average</c>, <c>power1_input</c>, or the rate of
    /// <c>energy1_input</c>): 0 to 5 kW, the model's bound (<see cref="GpuDevice.MaxGpuWatts"/>:
    /// one accelerator board draws under 2 kW).
    /// </summary>
    internal static readonly PlausibleRange GpuPowerWatts = new(
        "GPU power", 0, GpuDevice.MaxGpuWatts, "W", "at most 5 kW, the model's bound (a board draws under 2 kW)");

    /// <summary>An Intel GPU's throttle status (<c>throttle_reason_status</c>, xe <c>throttle/status</c>): 0 or 1.</summary>
    internal static readonly PlausibleRange GpuThrottleStatus = new(
        "GPU throttle status", 0, 1, "", "0 not throttled, 1 throttled (i915 and xe sysfs)");

    /// <summary>
    /// How far a cgroup's memory usage may exceed its own limit: 64 MiB. The kernel charges past
    /// <c>memory.max</c> (v2) or <c>memory.limit_in_bytes</c> (v1) only by force charges, which let
    /// an allocation that must not fail (__GFP_NOFAIL) or a dying task's allocation through
    /// (mm/memcontrol.c, try_charge_memcg: "allow memory usage go over the limit temporarily"):
    /// pages to a few MiB in flight. <c>memory.high</c> is a throttling threshold that usage may
    /// pass freely, so it is not a bound. v1 refuses to lower a limit below usage (EBUSY); v2
    /// lowers it and reclaims or OOM-kills down to it, so usage stays above only while memory
    /// that nothing can reclaim (tmpfs) holds it there; such a group reads Unknown with both numbers.
    /// </summary>
    internal const long CgroupMemoryOverLimitSlackBytes = 64L << 20;

    /// <summary>Why cgroup memory usage above its limit (plus <see cref="CgroupMemoryOverLimitSlackBytes"/>) is implausible.</summary>
    internal const string CgroupMemoryOverLimitWhy =
        "the kernel lets usage pass the limit only by force charges of a few MiB (mm/memcontrol.c); 64 MiB over is allowed";

    /// <summary>Why VRAM in use above VRAM total is implausible.</summary>
    internal const string GpuMemoryUsedWhy = "a device cannot use more memory than it has";

    /// <summary>The reason for a value outside <paramref name="range"/>: what, the raw text, where, and the range with its reason.</summary>
    /// <param name="range">The range it is outside of.</param>
    /// <param name="source">The file (or API) it came from.</param>
    /// <param name="raw">The raw text as read (an excerpt for a file, see <see cref="Linux.KernelFile.Excerpt"/>).</param>
    public static string Reason(PlausibleRange range, string source, string raw) =>
        string.Create(CultureInfo.InvariantCulture,
            $"implausible {range.What} '{raw}' in {source} (plausible {range.Min:G}..{range.Max:G}{(range.Unit.Length == 0 ? "" : " " + range.Unit)}: {range.Why})");

    /// <summary>The reason for a value above another it cannot exceed (VRAM used above total, cgroup usage above its limit).</summary>
    /// <param name="what">What the value is ("VRAM used").</param>
    /// <param name="source">Where it came from.</param>
    /// <param name="raw">Its raw text.</param>
    /// <param name="bound">What it cannot exceed ("VRAM total").</param>
    /// <param name="boundSource">Where the bound came from.</param>
    /// <param name="boundRaw">The bound's raw text.</param>
    /// <param name="why">Why it cannot exceed the bound.</param>
    public static string Exceeds(string what, string source, string raw, string bound, string boundSource, string boundRaw, string why) =>
        $"implausible {what} '{raw}' in {source}: above the {bound} '{boundRaw}' in {boundSource} ({why})";
}
