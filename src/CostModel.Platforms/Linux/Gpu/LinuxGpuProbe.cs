using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Gpu;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Linux.Gpu;

/// <summary>Loads NVML; null with the reason when it cannot.</summary>
internal delegate INvmlApi? NvmlLoader(out string reason);

/// <summary>How the GPU probe reaches NVIDIA's software: a seam so tests run with fakes and never start a process.</summary>
/// <param name="LoadNvml">Loads NVML (the real one: <see cref="NvmlLibrary.TryLoad(out string)"/>).</param>
/// <param name="FindNvidiaSmi">The full path of nvidia-smi, or null (the real one searches PATH).</param>
/// <param name="Runner">Runs nvidia-smi.</param>
internal sealed record NvidiaAccess(NvmlLoader LoadNvml, Func<string?> FindNvidiaSmi, IProcessRunner Runner)
{
    public static NvidiaAccess System { get; } = new(
        static (out string reason) => NvmlLibrary.TryLoad(out reason),
        static () => ExecutableSearch.FindOnPath("nvidia-smi"),
        SystemProcessRunner.Instance);
}

/// <summary>
/// The node's GPUs (<see cref="GpuFactors"/>): NVIDIA through NVML (or, when NVML cannot be
/// loaded, a cached <c>nvidia-smi</c> answer refreshed in the background), AMD and Intel from
/// <c>/sys/class/drm</c>. Devices are discovered at construction and again every
/// <see cref="RediscoverInterval"/>; a pass only calls NVML and re-reads open files.
/// </summary>
/// <remarks>
/// DeviceCount is Measured (0 when nothing was found) whenever the search could be done; it is
/// NotSupported only when neither sysfs nor NVML could be searched, and Unknown while the
/// nvidia-smi fallback has not answered yet or its answer is stale. NVIDIA GPUs that are on the
/// PCI bus but that neither NVML nor nvidia-smi can read are still listed, with readings that say why.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class LinuxGpuProbe : ISignalProbe, IDisposable
{
    /// <summary>
    /// How often devices are listed again. GPUs appear or go rarely (PCIe hot-plug, an eGPU,
    /// a driver rebind, MIG reconfiguration); 30 s bounds both the cost of listing (a directory
    /// walk and a few NVML calls) and how long a change goes unseen.
    /// </summary>
    internal static readonly TimeSpan RediscoverInterval = Rediscovery.DefaultInterval;

    /// <summary>After a read failure that may mean a device went away, list again this soon, but not on every pass of a persistent failure.</summary>
    internal static readonly TimeSpan FailureRediscoverDelay = TimeSpan.FromSeconds(5);

    /// <summary>Used when <see cref="LinuxProbeOptions.NvidiaSmiTimeout"/> is not positive: the option's own default, 2 s.</summary>
    internal static readonly TimeSpan DefaultNvidiaSmiTimeout = new LinuxProbeOptions().NvidiaSmiTimeout;

    internal const string ProbeName = "linux.gpu";

    private const string WaitingForNvidiaSmi = "waiting for the first nvidia-smi answer";

    private readonly string _sysRoot;
    private readonly IProbeFailureReporter _failures;
    private readonly NvmlGpuReader? _nvml;
    private readonly NvidiaSmiMonitor? _smi;
    private readonly string _nvidiaUnreadableReason;
    private readonly DrmGpuReader _drm;
    private readonly List<PciDisplayDevice> _pciNvidia = [];
    private string[] _pciNvidiaNames = [];
    private bool _nvmlReady;
    private SignalQuality _pciNvidiaQuality;
    private string _pciNvidiaReason;
    private string _countSource = "sysfs";
    private string? _countNotSupported;

    // Why the count may be short (a vendor not searched, a device that could not be classified), or null.
    private string? _countIncomplete;
    private long? _discoveredAt;

    public LinuxGpuProbe(IOptions<LinuxProbeOptions> options, IProbeFailureReporter failures, TimeProvider timeProvider)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), failures, timeProvider, NvidiaAccess.System)
    {
    }

    internal LinuxGpuProbe(LinuxProbeOptions options, IProbeFailureReporter failures, TimeProvider timeProvider, NvidiaAccess nvidia)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(nvidia);
        _sysRoot = options.SysRoot;
        _failures = failures;
        _drm = new DrmGpuReader(_sysRoot, failures, ProbeName);

        if (nvidia.LoadNvml(out string nvmlReason) is { } api)
        {
            _nvml = new NvmlGpuReader(api, failures, ProbeName);
            _nvidiaUnreadableReason = nvmlReason;
        }
        else if (!options.AllowNvidiaSmiFallback)
        {
            _nvidiaUnreadableReason = $"NVML: {nvmlReason}; the nvidia-smi fallback is off (AllowNvidiaSmiFallback=false)";
        }
        else if (nvidia.FindNvidiaSmi() is { } nvidiaSmi)
        {
            TimeSpan timeout = options.NvidiaSmiTimeout;
            if (timeout <= TimeSpan.Zero)
            {
                failures.Report(ProbeName, "out-of-range", $"NvidiaSmiTimeout {timeout} is not positive; using {DefaultNvidiaSmiTimeout}");
                timeout = DefaultNvidiaSmiTimeout;
            }

            _smi = new NvidiaSmiMonitor(nvidiaSmi, nvidia.Runner, timeProvider, timeout, failures, ProbeName);
            _nvidiaUnreadableReason = nvmlReason;
        }
        else
        {
            _nvidiaUnreadableReason = $"NVML: {nvmlReason}; nvidia-smi is not on PATH";
        }

        _pciNvidiaReason = _nvidiaUnreadableReason;
        Discover();
        _smi?.Start();
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Gpu;

    /// <summary>Where NVIDIA readings come from: "nvml", "nvidia-smi" or "none".</summary>
    internal string NvidiaPath => _nvml is not null ? "nvml" : _smi is not null ? "nvidia-smi" : "none";

    internal NvidiaSmiMonitor? NvidiaSmi => _smi;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider time = snapshot.TimeProvider;
        DateTimeOffset now = time.GetUtcNow();
        long timestamp = time.GetTimestamp();
        if (_discoveredAt is not { } discoveredAt)
        {
            // Discovered in the constructor: the collector's clock starts counting from the first pass.
            _discoveredAt = timestamp;
        }
        else
        {
            TimeSpan sinceDiscovery = time.GetElapsedTime(discoveredAt, timestamp);
            bool failed = (_nvml?.NeedsRediscovery ?? false) || _drm.NeedsRediscovery;
            if (sinceDiscovery >= RediscoverInterval || (failed && sinceDiscovery >= FailureRediscoverDelay))
            {
                Discover();
                _discoveredAt = timestamp;
            }
        }

        NvidiaSmiState? smi = _smi?.State;
        int nvidiaCount = _nvmlReady ? _nvml!.Count : smi is not null ? smi.Devices.Length : _pciNvidia.Count;
        int total = nvidiaCount + _drm.Count;
        GpuDevice[] devices = total == 0 ? [] : new GpuDevice[total];
        if (_nvmlReady)
        {
            _nvml!.Read(now, devices.AsSpan(0, nvidiaCount));
        }
        else if (smi is not null)
        {
            CopyNvidiaSmi(smi, now, devices);
        }
        else
        {
            FillUnreadableNvidia(now, devices);
        }

        _drm.Read(now, timestamp, time, devices.AsSpan(nvidiaCount));

        snapshot.Gpu = new GpuFactors
        {
            DeviceCount = CountReading(total, smi, now),
            Devices = ImmutableCollectionsMarshal.AsImmutableArray(devices),
        };
    }

    public void Dispose()
    {
        _smi?.Dispose();
        _nvml?.Dispose();
        _drm.Dispose();
    }

    private void Discover()
    {
        string? nvmlFailure = null;
        _nvmlReady = _nvml is not null && _nvml.TryDiscover(out nvmlFailure);

        // NVIDIA GPUs nothing can read are listed from the PCI bus, with the reason.
        _pciNvidia.Clear();
        string? pciFailure = null;
        bool nvidiaUnreadable = !_nvmlReady && _smi is null;
        if (nvidiaUnreadable)
        {
            _ = PciDisplayScan.TryScan(_sysRoot, DrmGpuReader.NvidiaVendorId, _pciNvidia, out pciFailure);
            _pciNvidiaNames = new string[_pciNvidia.Count];
            for (int i = 0; i < _pciNvidia.Count; i++)
            {
                _pciNvidiaNames[i] = GpuNames.Sanitize($"NVIDIA GPU {_pciNvidia[i].DeviceId} at {_pciNvidia[i].Slot}", "NVIDIA GPU");
            }

            (_pciNvidiaQuality, _pciNvidiaReason) = nvmlFailure is not null
                ? (SignalQuality.Unknown, nvmlFailure)
                : (SignalQuality.NotSupported, "NVIDIA GPU present but not readable: " + _nvidiaUnreadableReason);
        }

        _drm.Discover();

        string drmSource = Path.Combine(_sysRoot, "class", "drm");
        string nvidiaSource = _nvmlReady ? "nvml"
            : _smi is not null ? "nvidia-smi"
            : Path.Combine(_sysRoot, "bus", "pci", "devices");
        _countNotSupported = null;
        _countIncomplete = null;
        if (_drm.SearchFailure is { } drmFailure)
        {
            if (_nvmlReady || _smi is not null)
            {
                // NVIDIA's GPUs are counted, AMD and Intel ones are not: the sum is not a count.
                _countIncomplete = $"AMD and Intel GPUs not searched: {drmFailure}";
            }
            else
            {
                _countNotSupported = $"cannot search for GPUs: {drmFailure}; {nvmlFailure ?? _nvidiaUnreadableReason}";
            }
        }

        _countIncomplete ??= _drm.Incomplete
            ?? (pciFailure is null ? null : $"NVIDIA GPUs on the PCI bus may be missed: {pciFailure}");
        if (pciFailure is not null)
        {
            _failures.Report(ProbeName, "io", pciFailure);
        }

        _countSource = $"{nvidiaSource} + {drmSource}";
    }

    private Reading<int> CountReading(int total, NvidiaSmiState? smi, DateTimeOffset now)
    {
        if (_countNotSupported is { } reason)
        {
            return Reading.NotSupported<int>(reason, now);
        }

        if (_countIncomplete is { } incomplete)
        {
            return Reading.Unknown<int>(incomplete, now);
        }

        if (smi is null)
        {
            return Reading.Measured(total, now, _countSource);
        }

        if (smi.ObservedAt is not { } answeredAt)
        {
            return Reading.Unknown<int>(smi.LastError is { } error ? $"nvidia-smi has not answered: {error}" : WaitingForNvidiaSmi, now);
        }

        return Reading.Measured(total, answeredAt, _countSource).FreshOrUnknown(now, NvidiaSmiMonitor.MaxAge);
    }

    private static void CopyNvidiaSmi(NvidiaSmiState smi, DateTimeOffset now, GpuDevice[] into)
    {
        ImmutableArray<GpuDevice> cached = smi.Devices;
        bool fresh = smi.ObservedAt is { } answeredAt && now - answeredAt <= NvidiaSmiMonitor.MaxAge;
        for (int i = 0; i < cached.Length; i++)
        {
            GpuDevice device = cached[i];
            into[i] = fresh ? device : device with
            {
                Utilization = device.Utilization.FreshOrUnknown(now, NvidiaSmiMonitor.MaxAge),
                MemoryUsedBytes = device.MemoryUsedBytes.FreshOrUnknown(now, NvidiaSmiMonitor.MaxAge),
                MemoryTotalBytes = device.MemoryTotalBytes.FreshOrUnknown(now, NvidiaSmiMonitor.MaxAge),
                TemperatureCelsius = device.TemperatureCelsius.FreshOrUnknown(now, NvidiaSmiMonitor.MaxAge),
                PowerWatts = device.PowerWatts.FreshOrUnknown(now, NvidiaSmiMonitor.MaxAge),
                Throttled = device.Throttled.FreshOrUnknown(now, NvidiaSmiMonitor.MaxAge),
            };
        }
    }

    private void FillUnreadableNvidia(DateTimeOffset now, GpuDevice[] into)
    {
        for (int i = 0; i < _pciNvidia.Count; i++)
        {
            bool unknown = _pciNvidiaQuality == SignalQuality.Unknown;
            Reading<double> noDouble = unknown ? Reading.Unknown<double>(_pciNvidiaReason, now) : Reading.NotSupported<double>(_pciNvidiaReason, now);
            Reading<long> noLong = unknown ? Reading.Unknown<long>(_pciNvidiaReason, now) : Reading.NotSupported<long>(_pciNvidiaReason, now);
            into[i] = new GpuDevice
            {
                Index = i,
                Vendor = GpuVendor.Nvidia,
                Name = _pciNvidiaNames[i],
                Utilization = noDouble,
                MemoryUsedBytes = noLong,
                MemoryTotalBytes = noLong,
                TemperatureCelsius = noDouble,
                PowerWatts = noDouble,
                Throttled = unknown ? Reading.Unknown<bool>(_pciNvidiaReason, now) : Reading.NotSupported<bool>(_pciNvidiaReason, now),
            };
        }
    }
}
