using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Linux.Gpu;

/// <summary>
/// One AMD or Intel card under <c>/sys/class/drm/cardN</c>: its sensor files found once, re-read
/// on every pass. Units in sysfs: percent (<c>gpu_busy_percent</c>), bytes (<c>mem_info_vram_*</c>),
/// millidegrees C (<c>hwmon*/temp*_input</c>), microwatts (<c>hwmon*/power1_average</c>,
/// <c>power1_input</c>), microjoules (<c>hwmon*/energy1_input</c>).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class DrmCard : IDisposable
{
    internal const string IntelUtilizationReason =
        "Intel GPUs publish busy time only through the i915/xe perf PMU (perf_event_open, which needs CAP_PERFMON or kernel.perf_event_paranoid <= 0); sysfs has no busy percentage";

    internal const string IntelMemoryReason =
        "i915/xe publish no device-memory use in sysfs (an integrated GPU shares system memory)";

    internal const string AmdThrottleReason =
        "amdgpu publishes its throttle status only inside the binary gpu_metrics table, which this probe does not decode";

    internal const string RuntimeSuspendedReason =
        "the GPU is runtime-suspended (device/power/runtime_status); amdgpu answers sensor reads with EBUSY or EPERM instead of waking it";

    internal const string FirstEnergySampleReason = "first sample; power from the energy counter needs two";

    internal const string EnergyWentBackReason = "the energy counter went backwards (reset or wrap); the next pass has a rate again";

    // Microwatts per watt, microjoules per joule, millidegrees per degree: the hwmon sysfs ABI.
    private const double MicroPerUnit = 1_000_000;
    private const double MilliPerUnit = 1_000;

    private readonly IProbeFailureReporter _failures;
    private readonly string _probe;
    private readonly Sensor _busy;
    private readonly Sensor _vramUsed;
    private readonly Sensor _vramTotal;
    private readonly Sensor _temperature;
    private readonly Sensor _power;
    private readonly PowerKind _powerKind;
    private readonly Sensor _throttle;
    private readonly KernelFile? _runtimeStatus;
    private bool? _suspended;
    private long _lastEnergy;
    private long _lastEnergyTimestamp;
    private bool _hasEnergy;

    public DrmCard(string cardDir, string cardName, int number, GpuVendor vendor, IProbeFailureReporter failures, string probeName)
    {
        CardName = cardName;
        Number = number;
        Vendor = vendor;
        _failures = failures;
        _probe = probeName;
        string device = Path.Combine(cardDir, "device");
        string runtimeStatus = Path.Combine(device, "power", "runtime_status");
        _runtimeStatus = Path.Exists(runtimeStatus) ? new KernelFile(runtimeStatus) : null;
        Name = DescribeName(device, cardName, vendor);

        string? hwmon = FirstHwmon(device);
        string noHwmon = $"{cardName} has no hwmon sensors in sysfs";

        if (vendor == GpuVendor.Amd)
        {
            _busy = Open(Path.Combine(device, "gpu_busy_percent"), "amdgpu on this kernel (before 4.19) or chip publishes no gpu_busy_percent");
            _vramUsed = Open(Path.Combine(device, "mem_info_vram_used"), "amdgpu on this kernel publishes no mem_info_vram_used");
            _vramTotal = Open(Path.Combine(device, "mem_info_vram_total"), "amdgpu on this kernel publishes no mem_info_vram_total");
            _throttle = Sensor.NotSupported(AmdThrottleReason);
        }
        else
        {
            _busy = Sensor.NotSupported(IntelUtilizationReason);
            _vramUsed = _vramTotal = Sensor.NotSupported(IntelMemoryReason);

            // i915: card/gt/gt0/throttle_reason_status (kernel 5.18+); xe: device/tile0/gt0/freq0/throttle/status.
            string i915 = Path.Combine(cardDir, "gt", "gt0", "throttle_reason_status");
            string xe = Path.Combine(device, "tile0", "gt0", "freq0", "throttle", "status");
            _throttle = Open(Path.Exists(i915) ? i915 : xe, "this Intel driver publishes no throttle status (gt/gt0/throttle_reason_status or tile0/gt0/freq0/throttle/status)");
        }

        if (hwmon is null)
        {
            _temperature = Sensor.NotSupported(noHwmon);
            _power = Sensor.NotSupported(noHwmon);
            _powerKind = PowerKind.None;
            return;
        }

        _temperature = Open(FirstTemperature(hwmon), $"{cardName}'s hwmon has no temperature input");

        // power1_average (most amdgpu), power1_input (newer amdgpu SMUs), energy1_input (i915/xe discrete cards).
        string average = Path.Combine(hwmon, "power1_average");
        string input = Path.Combine(hwmon, "power1_input");
        string energy = Path.Combine(hwmon, "energy1_input");
        (string path, _powerKind) = Path.Exists(average) ? (average, PowerKind.Microwatts)
            : Path.Exists(input) ? (input, PowerKind.Microwatts)
            : Path.Exists(energy) ? (energy, PowerKind.Microjoules)
            : (average, PowerKind.None);
        _power = Open(path, $"{cardName}'s hwmon has no power1_average, power1_input or energy1_input");
    }

    private enum PowerKind
    {
        None,
        Microwatts,
        Microjoules,
    }

    public string CardName { get; }

    public int Number { get; }

    public GpuVendor Vendor { get; }

    public string Name { get; }

    /// <summary>True once a file this card had is gone: the card should be rediscovered.</summary>
    public bool FileVanished { get; private set; }

    public GpuDevice Read(DateTimeOffset now, long timestamp, TimeProvider time)
    {
        _suspended = null;
        ReadMemory(now, out Reading<long> used, out Reading<long> total);
        return new GpuDevice
        {
            Index = Number,
            Vendor = Vendor,
            Name = Name,
            Utilization = ReadUtilization(now),
            MemoryUsedBytes = used,
            MemoryTotalBytes = total,
            TemperatureCelsius = ReadTemperature(now),
            PowerWatts = ReadPower(now, timestamp, time),
            Throttled = ReadThrottle(now),
        };
    }

    public void Dispose()
    {
        _busy.File?.Dispose();
        _vramUsed.File?.Dispose();
        _vramTotal.File?.Dispose();
        _temperature.File?.Dispose();
        _power.File?.Dispose();
        _throttle.File?.Dispose();
        _runtimeStatus?.Dispose();
    }

    private Reading<double> ReadUtilization(DateTimeOffset now)
    {
        if (_busy.File is not { } file)
        {
            return Reading.NotSupported<double>(_busy.Reason!, now);
        }

        if (!TryReadInt64(file, out long percent, out string? reason))
        {
            // A runtime-suspended GPU is powered down: nothing runs on it.
            return ReferenceEquals(reason, RuntimeSuspendedReason) && _runtimeStatus is not null
                ? Reading.Estimated(0.0, now, _runtimeStatus.Path)
                : Reading.Unknown<double>(reason, now);
        }

        return Plausible.GpuBusyPercent.Contains(percent)
            ? Reading.Measured(percent / 100.0, now, file.Path)
            : Implausible<double>(Plausible.GpuBusyPercent, file, now);
    }

    /// <summary>VRAM used and total, each in range, and used not above total (else both are Unknown: either may be wrong).</summary>
    private void ReadMemory(DateTimeOffset now, out Reading<long> used, out Reading<long> total)
    {
        used = ReadBytes(_vramUsed, now);
        total = ReadBytes(_vramTotal, now);
        if (used.HasValue && total.HasValue && used.GetValueOrDefault(default) > total.GetValueOrDefault(default))
        {
            string reason = Plausible.Exceeds(
                "VRAM used", _vramUsed.File!.Path, _vramUsed.File.Excerpt(), "VRAM total", _vramTotal.File!.Path, _vramTotal.File.Excerpt(), Plausible.GpuMemoryUsedWhy);
            _failures.Report(_probe, Plausible.OutOfRangeKind, reason);
            used = total = Reading.Unknown<long>(reason, now);
        }
    }

    private Reading<long> ReadBytes(Sensor sensor, DateTimeOffset now)
    {
        if (sensor.File is not { } file)
        {
            return Reading.NotSupported<long>(sensor.Reason!, now);
        }

        if (!TryReadInt64(file, out long bytes, out string? reason))
        {
            return Reading.Unknown<long>(reason, now);
        }

        return Plausible.GpuMemoryBytes.Contains(bytes)
            ? Reading.Measured(bytes, now, file.Path)
            : Implausible<long>(Plausible.GpuMemoryBytes, file, now);
    }

    private Reading<double> ReadTemperature(DateTimeOffset now)
    {
        if (_temperature.File is not { } file)
        {
            return Reading.NotSupported<double>(_temperature.Reason!, now);
        }

        if (!TryReadInt64(file, out long millidegrees, out string? reason))
        {
            return Reading.Unknown<double>(reason, now);
        }

        double celsius = millidegrees / MilliPerUnit;
        return Plausible.SensorCelsius.Contains(celsius)
            ? Reading.Measured(celsius, now, file.Path)
            : Implausible<double>(Plausible.SensorCelsius, file, now);
    }

    private Reading<double> ReadPower(DateTimeOffset now, long timestamp, TimeProvider time)
    {
        if (_power.File is not { } file)
        {
            return Reading.NotSupported<double>(_power.Reason!, now);
        }

        if (!TryReadInt64(file, out long value, out string? reason))
        {
            _hasEnergy = false;
            return Reading.Unknown<double>(reason, now);
        }

        if (_powerKind == PowerKind.Microwatts)
        {
            double watts = value / MicroPerUnit;
            return Plausible.GpuPowerWatts.Contains(watts)
                ? Reading.Measured(watts, now, file.Path)
                : Implausible<double>(Plausible.GpuPowerWatts, file, now);
        }

        // Energy counter in microjoules: average power between two passes.
        bool hadEnergy = _hasEnergy;
        long previous = _lastEnergy;
        TimeSpan elapsed = time.GetElapsedTime(_lastEnergyTimestamp, timestamp);
        _lastEnergy = value;
        _lastEnergyTimestamp = timestamp;
        _hasEnergy = true;
        if (!hadEnergy || elapsed <= TimeSpan.Zero)
        {
            return Reading.Unknown<double>(FirstEnergySampleReason, now);
        }

        if (value < previous)
        {
            return Reading.Unknown<double>(EnergyWentBackReason, now);
        }

        double averageWatts = (value - previous) / MicroPerUnit / elapsed.TotalSeconds;
        if (!Plausible.GpuPowerWatts.Contains(averageWatts))
        {
            string raw = string.Create(CultureInfo.InvariantCulture, $"{previous} then {value} uJ over {elapsed.TotalSeconds:G6} s = {averageWatts:G6} W");
            string implausible = Plausible.Reason(Plausible.GpuPowerWatts, file.Path, raw);
            _failures.Report(_probe, Plausible.OutOfRangeKind, implausible);
            return Reading.Unknown<double>(implausible, now);
        }

        return Reading.Estimated(averageWatts, now, file.Path);
    }

    private Reading<bool> ReadThrottle(DateTimeOffset now)
    {
        if (_throttle.File is not { } file)
        {
            return Reading.NotSupported<bool>(_throttle.Reason!, now);
        }

        if (!TryReadInt64(file, out long status, out string? reason))
        {
            return Reading.Unknown<bool>(reason, now);
        }

        // Any of PL1/PL2/PL4 (power), thermal, PROCHOT, RATL, VR thermal alert or VR TDC: all heat or power.
        return Plausible.GpuThrottleStatus.Contains(status)
            ? Reading.Measured(status == 1, now, file.Path)
            : Implausible<bool>(Plausible.GpuThrottleStatus, file, now);
    }

    private bool TryReadInt64(KernelFile file, out long value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? reason)
    {
        if (file.TryRead(out ReadOnlySpan<byte> content))
        {
            if (KernelText.TryParseInt64(content, out value))
            {
                reason = null;
                return true;
            }

            reason = $"{file.Path} does not hold an integer";
            _failures.Report(_probe, "garbage", reason);
            return false;
        }

        value = 0;
        if (IsSuspended())
        {
            reason = RuntimeSuspendedReason;
            return false;
        }

        reason = file.Error ?? $"{file.Path} could not be read";
        _failures.Report(_probe, file.ErrorKind ?? "io", reason);
        if (file.ErrorKind == "missing")
        {
            FileVanished = true;
        }

        return false;
    }

    private Reading<T> Implausible<T>(PlausibleRange range, KernelFile file, DateTimeOffset now)
        where T : struct
    {
        string reason = Plausible.Reason(range, file.Path, file.Excerpt());
        _failures.Report(_probe, Plausible.OutOfRangeKind, reason);
        return Reading.Unknown<T>(reason, now);
    }

    private bool IsSuspended()
    {
        if (_suspended is { } known)
        {
            return known;
        }

        bool suspended = _runtimeStatus is not null
            && _runtimeStatus.TryRead(out ReadOnlySpan<byte> status)
            && KernelText.Trim(status).SequenceEqual("suspended"u8);
        _suspended = suspended;
        return suspended;
    }

    /// <summary>
    /// Keeps a file that exists. A file that exists but fails to read at discovery with an I/O
    /// error (EINVAL, EOPNOTSUPP: some APUs for gpu_busy_percent) is treated as not provided by
    /// this chip, unless the card is runtime-suspended (then it may work once awake).
    /// Permission errors are kept: they are the operator's to fix, and every pass reports them.
    /// </summary>
    private Sensor Open(string path, string missingReason)
    {
        // Path.Exists: a directory or FIFO in place of the file fails every read (Unknown), not "not provided".
        if (!Path.Exists(path))
        {
            return Sensor.NotSupported(missingReason);
        }

        var file = new KernelFile(path);
        if (!file.TryRead(out _) && file.ErrorKind is "io" or "too-large" && !IsSuspended())
        {
            string reason = $"{path} exists but cannot be read ({file.Error}): this GPU does not provide it";
            file.Dispose();
            return Sensor.NotSupported(reason);
        }

        return new Sensor(file, null);
    }

    private static string DescribeName(string device, string cardName, GpuVendor vendor)
    {
        string vendorName = vendor == GpuVendor.Amd ? "AMD" : "Intel";
        string fallback = $"{vendorName} GPU {cardName}";

        // amdgpu reads product_name from the board's FRU EEPROM (Instinct and Radeon Pro boards); often empty elsewhere.
        if (vendor == GpuVendor.Amd && DrmGpuReader.ReadText(Path.Combine(device, "product_name")) is { Length: > 0 } product)
        {
            return Platforms.Gpu.GpuNames.Sanitize(product, fallback);
        }

        // uevent: DRIVER=amdgpu, PCI_ID=1002:744C, PCI_SLOT_NAME=0000:03:00.0 ...
        string? uevent = DrmGpuReader.ReadText(Path.Combine(device, "uevent"));
        string? pciId = null;
        string? slot = null;
        if (uevent is not null)
        {
            foreach (string line in uevent.Split('\n'))
            {
                if (line.StartsWith("PCI_ID=", StringComparison.Ordinal))
                {
                    pciId = line["PCI_ID=".Length..].Trim();
                }
                else if (line.StartsWith("PCI_SLOT_NAME=", StringComparison.Ordinal))
                {
                    slot = line["PCI_SLOT_NAME=".Length..].Trim();
                }
            }
        }

        return pciId is null ? fallback : Platforms.Gpu.GpuNames.Sanitize(slot is null ? $"{vendorName} GPU {pciId}" : $"{vendorName} GPU {pciId} at {slot}", fallback);
    }

    private static string? FirstHwmon(string device)
    {
        string hwmonDir = Path.Combine(device, "hwmon");
        if (!Directory.Exists(hwmonDir))
        {
            return null;
        }

        string? first = null;
        foreach (string entry in Directory.EnumerateFileSystemEntries(hwmonDir, "hwmon*"))
        {
            if (first is null || string.CompareOrdinal(entry, first) < 0)
            {
                first = entry;
            }
        }

        return first;
    }

    /// <summary>temp1_input (amdgpu: "edge"), else the lowest-numbered temp*_input.</summary>
    private static string FirstTemperature(string hwmon)
    {
        string temp1 = Path.Combine(hwmon, "temp1_input");
        if (Path.Exists(temp1))
        {
            return temp1;
        }

        string? best = null;
        int bestNumber = int.MaxValue;
        foreach (string entry in Directory.EnumerateFiles(hwmon, "temp*_input"))
        {
            ReadOnlySpan<char> name = Path.GetFileName(entry.AsSpan());
            ReadOnlySpan<char> digits = name["temp".Length..^"_input".Length];
            if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number < bestNumber)
            {
                bestNumber = number;
                best = entry;
            }
        }

        return best ?? temp1;
    }

    private sealed class Sensor(KernelFile? file, string? reason)
    {
        public KernelFile? File { get; } = file;

        /// <summary>Why there is no file (NotSupported), when <see cref="File"/> is null.</summary>
        public string? Reason { get; } = reason;

        public static Sensor NotSupported(string reason) => new(null, reason);
    }
}
