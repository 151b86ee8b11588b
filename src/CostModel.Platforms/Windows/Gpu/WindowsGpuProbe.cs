using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Gpu;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Gpu;

/// <summary>Loads NVML; null with the reason when it cannot.</summary>
internal delegate INvmlApi? WindowsNvmlLoader(out string reason);

/// <summary>How the Windows GPU probe reaches the OS: a seam so tests run with fakes on every OS.</summary>
/// <param name="Pdh">PDH (pdh.dll).</param>
/// <param name="Dxgi">DXGI's adapter list.</param>
/// <param name="LoadNvml">Loads NVML (nvml.dll).</param>
internal sealed record WindowsGpuAccess(IPdhApi Pdh, IDxgiAdapterSource Dxgi, WindowsNvmlLoader LoadNvml)
{
    [SupportedOSPlatform("windows")]
    public static WindowsGpuAccess System { get; } = new(
        Win32PdhApi.Instance,
        Win32DxgiAdapterSource.Instance,
        static (out string reason) => NvmlLibrary.TryLoad(out reason));
}

/// <summary>
/// The node's GPUs on Windows (<see cref="GpuFactors"/>): adapters from DXGI, utilisation and
/// dedicated memory in use from the GPU performance counters (PDH), NVIDIA GPUs through NVML
/// (<c>nvml.dll</c>) when it loads. A timer from the injected <see cref="TimeProvider"/> collects
/// PDH every <see cref="SampleInterval"/> and lists the adapters again every
/// <see cref="RediscoverInterval"/>, off the collection path; <see cref="Collect"/> reads the last
/// published sample and calls NVML. See docs/windows/gpu.md.
/// </summary>
internal sealed class WindowsGpuProbe : ISignalProbe, IDisposable
{
    internal const string ProbeName = "windows.gpu";

    /// <summary>
    /// 1 s between PDH collections: Task Manager's refresh, and the collector's default snapshot
    /// interval (<c>CollectionDefaults.SampleInterval</c>). A collection of <c>GPU Engine</c> walks
    /// every process's GPU contexts (milliseconds with thousands of instances), which is why it is
    /// taken on a timer and not inside <see cref="Collect"/>.
    /// </summary>
    internal static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    /// <summary>A sample older than three intervals means the timer is stuck: its readings turn Unknown ("stale").</summary>
    internal static readonly TimeSpan MaxSampleAge = 3 * SampleInterval;

    /// <summary>How often adapters and NVML devices are listed again (the Linux probes' 30 s: GPUs appear or go rarely).</summary>
    internal static readonly TimeSpan RediscoverInterval = Rediscovery.DefaultInterval;

    /// <summary>After an NVML failure that may mean a device went away, list again this soon (as on Linux).</summary>
    internal static readonly TimeSpan FailureRediscoverDelay = TimeSpan.FromSeconds(5);

    internal const string DxgiSource = "dxgi:DXGI_ADAPTER_DESC1.DedicatedVideoMemory";

    private const string NoSensorApi =
        " without WMI, elevation or the vendor's SDK; NVML reads NVIDIA GPUs";

    private const string NoTemperature = "Windows has no vendor-neutral API for a GPU's temperature" + NoSensorApi;
    private const string NoPower = "Windows has no vendor-neutral API for a GPU's power draw" + NoSensorApi;
    private const string NoThrottle = "Windows has no vendor-neutral API for a GPU's clock throttle reasons" + NoSensorApi;

    private static readonly string[] OtherNoSensor = [NoTemperature, NoPower, NoThrottle];

    private readonly IProbeFailureReporter _failures;
    private readonly TimeProvider _time;
    private readonly IDxgiAdapterSource _dxgi;
    private readonly GpuPdhSampler _sampler;
    private readonly NvmlGpuReader? _nvml;
    private readonly string _nvmlReason;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private DxgiView _view;
    private GpuPdhSample? _sample;
    private long _dxgiListedAt;
    private bool _nvmlReady;
    private string? _nvmlFailure;
    private string[] _nvidiaNoSensor = OtherNoSensor;
    private long? _nvmlDiscoveredAt;
    private bool _disposed;
    private DxgiView? _countReasonView;
    private bool _countReasonNvmlReady;
    private bool _countNotSupported;
    private string? _countReason;
    private (int Listed, int Adapters, string[] Reasons)? _shortfall;

    /// <summary>Creates the probe with the real Win32 APIs.</summary>
    [SupportedOSPlatform("windows")]
    public WindowsGpuProbe(IProbeFailureReporter failures, TimeProvider timeProvider)
        : this(failures, timeProvider, WindowsGpuAccess.System)
    {
    }

    internal WindowsGpuProbe(IProbeFailureReporter failures, TimeProvider timeProvider, WindowsGpuAccess access)
    {
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(access);
        _failures = failures;
        _time = timeProvider;
        _dxgi = access.Dxgi;
        _sampler = new GpuPdhSampler(access.Pdh, failures, ProbeName);
        if (access.LoadNvml(out string nvmlReason) is { } nvml)
        {
            _nvml = new NvmlGpuReader(nvml, failures, ProbeName);
        }

        _nvmlReason = nvmlReason;
        DiscoverNvml();
        _view = ListAdapters();
        _dxgiListedAt = timeProvider.GetTimestamp();

        // The first collection now: memory in use is valid at once; utilisation needs the next one.
        _sample = _sampler.Sample(timeProvider.GetUtcNow());
        _timer = timeProvider.CreateTimer(static state => ((WindowsGpuProbe)state!).OnTimer(), this, SampleInterval, SampleInterval);
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Gpu;

    /// <summary>True when NVML is loaded and listed the NVIDIA devices at the last discovery.</summary>
    internal bool NvmlReady => _nvmlReady;

    /// <summary>The last published PDH sample (for tests).</summary>
    internal GpuPdhSample? LastSample => Volatile.Read(ref _sample);

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider time = snapshot.TimeProvider;
        DateTimeOffset now = time.GetUtcNow();
        long timestamp = time.GetTimestamp();
        if (_nvml is not null)
        {
            RediscoverNvmlIfDue(time, timestamp);
        }

        DxgiView view = Volatile.Read(ref _view);
        GpuPdhSample? sample = Volatile.Read(ref _sample);
        int dxgiNvidia = 0;
        foreach (DxgiAdapterInfo adapter in view.Gpus)
        {
            if (adapter.VendorId == DxgiVendors.Nvidia)
            {
                dxgiNvidia++;
            }
        }

        // NVML stands for the NVIDIA adapters only when it lists at least as many as DXGI does: one
        // it does not list (a driver that hides it from NVML, or lists none) would otherwise vanish
        // from a count read as measured. Short of them, every GPU is read as DXGI lists it.
        bool nvml = _nvmlReady && _nvml!.Count >= dxgiNvidia;
        string[]? shortfall = _nvmlReady && !nvml ? ShortfallReasons(_nvml!.Count, dxgiNvidia) : null;
        int nvidiaCount = nvml ? _nvml!.Count : 0;
        int total = nvidiaCount + (nvml ? view.Gpus.Length - dxgiNvidia : view.Gpus.Length);
        GpuDevice[] devices = total == 0 ? [] : new GpuDevice[total];
        if (nvml)
        {
            _nvml!.Read(now, devices.AsSpan(0, nvidiaCount));
        }

        int next = nvidiaCount;
        for (int i = 0; i < view.Gpus.Length; i++)
        {
            if (!(nvml && view.Gpus[i].VendorId == DxgiVendors.Nvidia))
            {
                devices[next++] = ReadAdapter(i, view, sample, now, shortfall);
            }
        }

        snapshot.Gpu = new GpuFactors
        {
            DeviceCount = CountReading(total, view, nvml, now),
            Devices = ImmutableCollectionsMarshal.AsImmutableArray(devices),
        };
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _timer.Dispose();
            _sampler.Dispose();
        }

        _nvml?.Dispose();
    }

    /// <summary>One timer tick: list adapters again when due, then collect PDH and publish the sample.</summary>
    internal void OnTimer()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            long timestamp = _time.GetTimestamp();
            if (_time.GetElapsedTime(_dxgiListedAt, timestamp) >= RediscoverInterval)
            {
                Volatile.Write(ref _view, ListAdapters());
                _dxgiListedAt = timestamp;
                if (_sampler.NeedsReopen)
                {
                    _sampler.TryOpen();
                }
            }

            Volatile.Write(ref _sample, _sampler.Sample(_time.GetUtcNow()));
        }
    }

    private GpuDevice ReadAdapter(int i, DxgiView view, GpuPdhSample? sample, DateTimeOffset now, string[]? shortfall)
    {
        DxgiAdapterInfo adapter = view.Gpus[i];
        PdhAdapterSample? counters = sample?.Find(adapter.Luid);
        Reading<long> totalMemory = view.TotalMemory(i, now);
        bool nvidia = adapter.VendorId == DxgiVendors.Nvidia;

        // An NVIDIA GPU whose NVML loaded but failed, or listed fewer GPUs than DXGI: Unknown (it may
        // work later); otherwise nothing can read these.
        bool unknown = nvidia && (_nvmlFailure is not null || shortfall is not null);
        string[] reasons = !nvidia ? OtherNoSensor : shortfall ?? _nvidiaNoSensor;
        return new GpuDevice
        {
            Index = adapter.Ordinal,
            Vendor = DxgiVendors.ToVendor(adapter.VendorId),
            Name = view.Names[i],
            Utilization = Utilization(sample, counters, now),
            MemoryUsedBytes = MemoryUsed(sample, counters, totalMemory, now),
            MemoryTotalBytes = totalMemory,
            TemperatureCelsius = unknown ? Reading.Unknown<double>(reasons[0], now) : Reading.NotSupported<double>(reasons[0], now),
            PowerWatts = unknown ? Reading.Unknown<double>(reasons[1], now) : Reading.NotSupported<double>(reasons[1], now),
            Throttled = unknown ? Reading.Unknown<bool>(reasons[2], now) : Reading.NotSupported<bool>(reasons[2], now),
        };
    }

    private static Reading<double> Utilization(GpuPdhSample? sample, PdhAdapterSample? counters, DateTimeOffset now)
    {
        if (sample is null)
        {
            return Reading.Unknown<double>(GpuPdhSampler.FirstSampleReason, now);
        }

        if (!sample.Engine.IsUsable)
        {
            return sample.Engine.Quality == SignalQuality.NotSupported
                ? Reading.NotSupported<double>(sample.Engine.Reason!, now)
                : Reading.Unknown<double>(sample.Engine.Reason!, now);
        }

        if (counters is null)
        {
            return Reading.Unknown<double>(NotInCounters, now);
        }

        if (counters.UtilizationProblem is { } problem)
        {
            return Reading.Unknown<double>(problem, now);
        }

        // No engine instance but the adapter is in the counters: no process has engine time on it.
        double percent = counters.UtilizationPercent ?? 0;
        return Reading.Measured(percent / 100.0, sample.CollectedAt, GpuPdhSampler.EngineSource).FreshOrUnknown(now, MaxSampleAge);
    }

    private Reading<long> MemoryUsed(GpuPdhSample? sample, PdhAdapterSample? counters, Reading<long> total, DateTimeOffset now)
    {
        if (sample is null)
        {
            return Reading.Unknown<long>("no PDH sample yet", now);
        }

        if (!sample.Memory.IsUsable)
        {
            return sample.Memory.Quality == SignalQuality.NotSupported
                ? Reading.NotSupported<long>(sample.Memory.Reason!, now)
                : Reading.Unknown<long>(sample.Memory.Reason!, now);
        }

        if (counters?.DedicatedBytes is not { } used)
        {
            return Reading.Unknown<long>(counters?.MemoryProblem ?? NotInMemoryCounters, now);
        }

        if (total.TryGetValue(out long totalBytes) && used > totalBytes)
        {
            string reason = Plausible.Exceeds("dedicated memory in use", GpuPdhSampler.MemoryCounterPath, used.ToString(CultureInfo.InvariantCulture),
                "dedicated video memory", "DXGI_ADAPTER_DESC1", totalBytes.ToString(CultureInfo.InvariantCulture), Plausible.GpuMemoryUsedWhy);
            _failures.Report(ProbeName, Plausible.OutOfRangeKind, reason);
            return Reading.Unknown<long>(reason, now);
        }

        return Reading.Measured(used, sample.CollectedAt, GpuPdhSampler.MemorySource).FreshOrUnknown(now, MaxSampleAge);
    }

    internal const string NotInCounters =
        "this adapter's LUID is in neither " + GpuPdhSampler.EngineCounterPath + " nor " + GpuPdhSampler.MemoryCounterPath + " (a driver older than WDDM 2.0 publishes none)";

    internal const string NotInMemoryCounters =
        "this adapter's LUID is not in " + GpuPdhSampler.MemoryCounterPath + " (a driver older than WDDM 2.0 publishes none)";

    /// <summary>
    /// The sensors' reasons of the NVIDIA GPUs while NVML lists fewer of them than DXGI (built once
    /// per pair of counts, not on every pass).
    /// </summary>
    private string[] ShortfallReasons(int listed, int adapters)
    {
        if (_shortfall is not { } kept || kept.Listed != listed || kept.Adapters != adapters)
        {
            string reason = string.Create(CultureInfo.InvariantCulture, $"NVML loaded from {_nvmlReason} but lists {listed} of the {adapters} NVIDIA GPUs DXGI lists, so the NVIDIA GPUs are read as DXGI lists them");
            kept = (listed, adapters, [reason + "; " + NoTemperature, reason + "; " + NoPower, reason + "; " + NoThrottle]);
            _shortfall = kept;
        }

        return kept.Reasons;
    }

    private Reading<int> CountReading(int total, DxgiView view, bool nvml, DateTimeOffset now)
    {
        if (view.Failure is null)
        {
            return Reading.Measured(total, now, nvml ? "nvml + dxgi" : "dxgi");
        }

        // The reason is built once per enumeration and NVML state, not on every pass.
        if (!ReferenceEquals(_countReasonView, view) || _countReasonNvmlReady != nvml)
        {
            _countReasonView = view;
            _countReasonNvmlReady = nvml;
            _countNotSupported = !nvml && view.NotSupported && _nvml is null;
            _countReason = nvml ? "GPUs other than NVIDIA's not searched: " + view.Failure
                : _countNotSupported ? $"cannot search for GPUs: {view.Failure}; NVML: {_nvmlReason}"
                : view.Failure;
        }

        return _countNotSupported ? Reading.NotSupported<int>(_countReason!, now) : Reading.Unknown<int>(_countReason!, now);
    }

    private void RediscoverNvmlIfDue(TimeProvider time, long timestamp)
    {
        if (_nvmlDiscoveredAt is not { } discoveredAt)
        {
            _nvmlDiscoveredAt = timestamp;
            return;
        }

        TimeSpan since = time.GetElapsedTime(discoveredAt, timestamp);
        if (since >= RediscoverInterval || (_nvml!.NeedsRediscovery && since >= FailureRediscoverDelay))
        {
            DiscoverNvml();
            _nvmlDiscoveredAt = timestamp;
        }
    }

    private void DiscoverNvml()
    {
        if (_nvml is null)
        {
            _nvmlReady = false;
            string reason = "NVML: " + _nvmlReason;
            _nvidiaNoSensor = [reason + "; " + NoTemperature, reason + "; " + NoPower, reason + "; " + NoThrottle];
            return;
        }

        _nvmlReady = _nvml.TryDiscover(out string? failure);
        _nvmlFailure = failure is null ? null : $"NVML loaded from {_nvmlReason} but {failure}";
        string nvidiaReason = _nvmlFailure ?? "NVML: " + _nvmlReason;
        _nvidiaNoSensor = [nvidiaReason + "; " + NoTemperature, nvidiaReason + "; " + NoPower, nvidiaReason + "; " + NoThrottle];
    }

    private DxgiView ListAdapters()
    {
        DxgiEnumeration listed = _dxgi.Enumerate();
        if (!listed.Succeeded && !listed.NotSupported)
        {
            // A lasting absence (no dxgi.dll, no graphics stack) is a property of the machine, not a failure.
            _failures.Report(ProbeName, "io", listed.Failure!);
        }

        return new DxgiView(listed, _failures);
    }

    /// <summary>One DXGI enumeration, with what each GPU's fixed readings are (names and total memory are built once, not per pass).</summary>
    private sealed class DxgiView
    {
        private readonly long[] _totalBytes;
        private readonly string?[] _totalProblems;

        public DxgiView(DxgiEnumeration listed, IProbeFailureReporter failures)
        {
            Failure = listed.Failure;
            NotSupported = listed.NotSupported;
            var gpus = ImmutableArray.CreateBuilder<DxgiAdapterInfo>();
            foreach (DxgiAdapterInfo adapter in listed.Adapters)
            {
                if (!DxgiVendors.IsNotAGpu(adapter))
                {
                    gpus.Add(adapter);
                }
            }

            Gpus = gpus.ToImmutable();
            Names = new string[Gpus.Length];
            _totalBytes = new long[Gpus.Length];
            _totalProblems = new string?[Gpus.Length];
            for (int i = 0; i < Gpus.Length; i++)
            {
                DxgiAdapterInfo adapter = Gpus[i];
                string fallback = string.Create(CultureInfo.InvariantCulture, $"GPU {adapter.VendorId:X4}:{adapter.DeviceId:X4}");
                Names[i] = GpuNames.Sanitize(adapter.Description, fallback);
                if (adapter.DedicatedVideoMemoryBytes > (ulong)Plausible.GpuMemoryBytes.Max)
                {
                    string reason = Plausible.Reason(Plausible.GpuMemoryBytes, $"DXGI_ADAPTER_DESC1.DedicatedVideoMemory of adapter {adapter.Ordinal}",
                        adapter.DedicatedVideoMemoryBytes.ToString(CultureInfo.InvariantCulture));
                    failures.Report(ProbeName, Plausible.OutOfRangeKind, reason);
                    _totalProblems[i] = reason;
                }
                else
                {
                    _totalBytes[i] = (long)adapter.DedicatedVideoMemoryBytes;
                }
            }
        }

        public ImmutableArray<DxgiAdapterInfo> Gpus { get; }

        public string? Failure { get; }

        public bool NotSupported { get; }

        /// <summary>Each GPU's sanitised name.</summary>
        public string[] Names { get; }

        /// <summary>The GPU's dedicated memory: constant for an adapter, observed now.</summary>
        public Reading<long> TotalMemory(int i, DateTimeOffset now) => _totalProblems[i] is { } problem
            ? Reading.Unknown<long>(problem, now)
            : Reading.Measured(_totalBytes[i], now, DxgiSource);
    }
}
