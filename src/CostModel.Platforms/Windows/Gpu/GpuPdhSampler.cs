using System.Collections.Immutable;
using System.Globalization;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Gpu;

/// <summary>What one PDH counter gave in a sample: usable (Measured), or why not.</summary>
/// <param name="Quality">Measured when its per-adapter values may be used; Unknown or NotSupported otherwise.</param>
/// <param name="Reason">Why it is not usable, or null.</param>
internal readonly record struct PdhCounterOutcome(SignalQuality Quality, string? Reason)
{
    public static PdhCounterOutcome Usable { get; } = new(SignalQuality.Measured, null);

    public bool IsUsable => Quality == SignalQuality.Measured;
}

/// <summary>One adapter's figures in a PDH sample.</summary>
/// <param name="Luid">The adapter LUID (<see cref="GpuInstanceName.Luid"/>).</param>
/// <param name="UtilizationPercent">The busiest engine's summed utilisation, 0 to 100; null when the adapter has no engine instance.</param>
/// <param name="UtilizationProblem">Why this adapter's utilisation is not usable (an implausible instance value), or null.</param>
/// <param name="DedicatedBytes">Dedicated (video) memory in use; null when the adapter has no memory instance.</param>
/// <param name="MemoryProblem">Why this adapter's memory figure is not usable, or null.</param>
internal sealed record PdhAdapterSample(long Luid, double? UtilizationPercent, string? UtilizationProblem, long? DedicatedBytes, string? MemoryProblem);

/// <summary>One collection of the GPU counters.</summary>
/// <param name="CollectedAt">When it was collected.</param>
/// <param name="Engine">Whether <c>GPU Engine</c> utilisation is usable in this sample.</param>
/// <param name="Memory">Whether <c>GPU Adapter Memory</c> dedicated usage is usable in this sample.</param>
/// <param name="Adapters">Each adapter seen in either counter set.</param>
internal sealed record GpuPdhSample(DateTimeOffset CollectedAt, PdhCounterOutcome Engine, PdhCounterOutcome Memory, ImmutableArray<PdhAdapterSample> Adapters)
{
    public PdhAdapterSample? Find(long luid)
    {
        foreach (PdhAdapterSample adapter in Adapters)
        {
            if (adapter.Luid == luid)
            {
                return adapter;
            }
        }

        return null;
    }
}

/// <summary>
/// Collects <c>\GPU Engine(*)\Utilization Percentage</c> and <c>\GPU Adapter Memory(*)\Dedicated Usage</c>
/// through one PDH query that stays open (PDH rates need the previous collection), and turns them
/// into per-adapter figures: engine instances are summed per engine (LUID, physical adapter,
/// engine ordinal) over processes, the adapter's utilisation is its busiest engine (Task Manager's
/// rule), capped at 100 %; dedicated usage is summed over the physical adapters of a LUID.
/// </summary>
/// <remarks>
/// Not thread-safe: one thread samples (the probe's timer, under the probe's lock). The lists and
/// dictionaries are reused between samples; only the published <see cref="GpuPdhSample"/> is new.
/// </remarks>
internal sealed class GpuPdhSampler : IDisposable
{
    /// <summary>The engine counter, by its English path (PdhAddEnglishCounterW: the same on every display language).</summary>
    internal const string EngineCounterPath = @"\GPU Engine(*)\Utilization Percentage";

    /// <summary>The memory counter, by its English path.</summary>
    internal const string MemoryCounterPath = @"\GPU Adapter Memory(*)\Dedicated Usage";

    /// <summary>The source of utilisation readings.</summary>
    internal const string EngineSource = "pdh:" + EngineCounterPath;

    /// <summary>The source of memory-in-use readings.</summary>
    internal const string MemorySource = "pdh:" + MemoryCounterPath;

    /// <summary>More distinct adapters than any machine has (a workstation holds 8 GPUs, plus indirect-display and remote adapters); more is garbage.</summary>
    internal const int MaxAdapters = 64;

    /// <summary>
    /// 5 percentage points above 100 for one process's share of one engine. PDH computes it from
    /// two running-time readings and two timestamps that the kernel does not take at the same
    /// instant, so a fully busy engine can read a little over 100 %; above this the counter is broken.
    /// </summary>
    internal const double InstanceSkewPercent = 5;

    /// <summary>The reason before the second collection.</summary>
    internal const string FirstSampleReason =
        "first sample: " + EngineCounterPath + " is a rate and PDH needs two collections to compute it";

    /// <summary>One instance's utilisation: 0 to 100 % plus <see cref="InstanceSkewPercent"/>.</summary>
    internal static readonly PlausibleRange InstancePercent = new(
        "GPU engine utilisation", 0, 100 + InstanceSkewPercent, "%",
        "a process's share of one engine's time; PDH's two readings are taken at slightly different instants, so up to 5 points over 100 are sampling skew");

    private readonly IPdhApi _api;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probe;
    private readonly PdhCounterArray _engineArray = new();
    private readonly PdhCounterArray _memoryArray = new();
    private readonly Dictionary<(long Luid, uint Physical, uint Engine), double> _engineSums = [];
    private readonly Dictionary<long, Accumulator> _adapters = [];
    private nint _query;
    private nint _engineCounter;
    private nint _memoryCounter;
    private PdhCounterOutcome _engineOpen;
    private PdhCounterOutcome _memoryOpen;
    private long _collections;
    private bool _openAttempted;
    private bool _disposed;

    public GpuPdhSampler(IPdhApi api, IProbeFailureReporter failures, string probeName)
    {
        _api = api;
        _failures = failures;
        _probe = probeName;
        _engineOpen = _memoryOpen = new PdhCounterOutcome(SignalQuality.Unknown, "the PDH query has not been opened");
    }

    /// <summary>True while the query is open and at least one counter was added.</summary>
    public bool IsOpen => _query != 0;

    /// <summary>True when opening failed or a counter could not be added, so that <see cref="TryOpen"/> is worth calling again.</summary>
    public bool NeedsReopen => !_disposed && (_query == 0 || _engineCounter == 0 || _memoryCounter == 0) && (_engineOpen.Quality == SignalQuality.Unknown || _memoryOpen.Quality == SignalQuality.Unknown);

    /// <summary>How many collections succeeded since the query was opened.</summary>
    public long Collections => _collections;

    /// <summary>The engine buffer's size in bytes (for tests of the growth path).</summary>
    internal int EngineBufferBytes => _engineArray.Capacity;

    /// <summary>Opens the query and adds both counters (once; again only after a failure).</summary>
    public void TryOpen()
    {
        if (_disposed || (_query != 0 && _engineCounter != 0 && _memoryCounter != 0))
        {
            return;
        }

        Close();
        _openAttempted = true;
        uint status = _api.OpenQuery(out nint query);
        if (status != PdhStatus.Success || query == 0)
        {
            var outcome = OpenFailed("PdhOpenQueryW", null, status);
            _engineOpen = _memoryOpen = outcome;
            return;
        }

        _query = query;
        status = _api.AddEnglishCounter(query, EngineCounterPath, out _engineCounter);
        _engineOpen = status == PdhStatus.Success && _engineCounter != 0 ? PdhCounterOutcome.Usable : OpenFailed("PdhAddEnglishCounterW", EngineCounterPath, status);
        status = _api.AddEnglishCounter(query, MemoryCounterPath, out _memoryCounter);
        _memoryOpen = status == PdhStatus.Success && _memoryCounter != 0 ? PdhCounterOutcome.Usable : OpenFailed("PdhAddEnglishCounterW", MemoryCounterPath, status);
        if (_engineCounter == 0 && _memoryCounter == 0)
        {
            Close();
        }
    }

    /// <summary>Collects once and returns the figures.</summary>
    public GpuPdhSample Sample(DateTimeOffset now)
    {
        if (!_openAttempted)
        {
            TryOpen();
        }

        if (_query == 0)
        {
            return new GpuPdhSample(now, _engineOpen, _memoryOpen, []);
        }

        uint status = _api.CollectQueryData(_query);
        if (status != PdhStatus.Success)
        {
            string reason = "PdhCollectQueryData failed: " + PdhStatus.Describe(status);
            _failures.Report(_probe, "io", reason);
            var failed = new PdhCounterOutcome(SignalQuality.Unknown, reason);
            return new GpuPdhSample(now, _engineOpen.IsUsable ? failed : _engineOpen, _memoryOpen.IsUsable ? failed : _memoryOpen, []);
        }

        _collections++;
        _adapters.Clear();
        PdhCounterOutcome memory = _memoryOpen.IsUsable ? ReadMemory() : _memoryOpen;
        PdhCounterOutcome engine = !_engineOpen.IsUsable ? _engineOpen
            : _collections < 2 ? new PdhCounterOutcome(SignalQuality.Unknown, FirstSampleReason)
            : ReadEngines();

        if (_adapters.Count > MaxAdapters)
        {
            string reason = string.Create(CultureInfo.InvariantCulture, $"PDH's GPU counters name {_adapters.Count} adapters, more than the {MaxAdapters} any machine has");
            _failures.Report(_probe, Plausible.OutOfRangeKind, reason);
            var tooMany = new PdhCounterOutcome(SignalQuality.Unknown, reason);
            return new GpuPdhSample(now, engine.IsUsable ? tooMany : engine, memory.IsUsable ? tooMany : memory, []);
        }

        var adapters = ImmutableArray.CreateBuilder<PdhAdapterSample>(_adapters.Count);
        foreach ((long luid, Accumulator a) in _adapters)
        {
            adapters.Add(new PdhAdapterSample(
                luid,
                a.HasEngine ? Math.Min(a.BusiestEnginePercent, 100) : null,
                a.EngineProblem,
                a.HasMemory ? (long)a.DedicatedBytes : null,
                a.MemoryProblem));
        }

        return new GpuPdhSample(now, engine, memory, adapters.MoveToImmutable());
    }

    public void Dispose()
    {
        _disposed = true;
        Close();
    }

    private PdhCounterOutcome ReadMemory()
    {
        uint status = _memoryArray.Read(_api, _memoryCounter, out string? failure);
        if (status != PdhStatus.Success)
        {
            return ReadFailed(MemoryCounterPath, status, failure);
        }

        for (int i = 0; i < _memoryArray.Count; i++)
        {
            _memoryArray.GetItem(i, out ReadOnlySpan<char> name, out uint itemStatus, out double value);
            if (!GpuInstanceName.TryParseAdapter(name, out long luid, out _))
            {
                return Unattributable(MemoryCounterPath, memory: true, name);
            }

            if (!PdhStatus.IsValidItem(itemStatus))
            {
                continue; // an adapter that went away between collections
            }

            Accumulator a = Adapter(luid);
            if (a.MemoryProblem is not null)
            {
                continue;
            }

            // Bytes; the sum over the physical adapters of one LUID is bounded too.
            double total = a.DedicatedBytes + value;
            if (!Plausible.GpuMemoryBytes.Contains(value) || !Plausible.GpuMemoryBytes.Contains(total))
            {
                a.MemoryProblem = Plausible.Reason(Plausible.GpuMemoryBytes, MemoryCounterPath + " for " + name.ToString(), value.ToString("R", CultureInfo.InvariantCulture));
                _failures.Report(_probe, Plausible.OutOfRangeKind, a.MemoryProblem);
                continue;
            }

            a.DedicatedBytes = total;
            a.HasMemory = true;
        }

        return PdhCounterOutcome.Usable;
    }

    private PdhCounterOutcome ReadEngines()
    {
        uint status = _engineArray.Read(_api, _engineCounter, out string? failure);
        if (status != PdhStatus.Success)
        {
            return ReadFailed(EngineCounterPath, status, failure);
        }

        _engineSums.Clear();
        for (int i = 0; i < _engineArray.Count; i++)
        {
            _engineArray.GetItem(i, out ReadOnlySpan<char> name, out uint itemStatus, out double value);
            if (!GpuInstanceName.TryParseEngine(name, out long luid, out uint physical, out uint engine, out _))
            {
                return Unattributable(EngineCounterPath, memory: false, name);
            }

            Accumulator a = Adapter(luid);
            if (!PdhStatus.IsValidItem(itemStatus))
            {
                // A process that started since the last collection (no previous value yet) or that exited: its share is not measurable this time.
                continue;
            }

            if (a.EngineProblem is not null)
            {
                continue;
            }

            if (!InstancePercent.Contains(value))
            {
                a.EngineProblem = Plausible.Reason(InstancePercent, EngineCounterPath + " for " + name.ToString(), value.ToString("R", CultureInfo.InvariantCulture));
                _failures.Report(_probe, Plausible.OutOfRangeKind, a.EngineProblem);
                continue;
            }

            var key = (luid, physical, engine);
            double sum = _engineSums.GetValueOrDefault(key) + value;
            _engineSums[key] = sum;
            a.HasEngine = true;
            a.BusiestEnginePercent = Math.Max(a.BusiestEnginePercent, sum);
        }

        return PdhCounterOutcome.Usable;
    }

    /// <summary>
    /// 80 characters: the most of an unattributable instance name a reason shows (the counters'
    /// own names run to some 70), cut never inside a surrogate pair and with any unpaired surrogate
    /// replaced (<see cref="OsText.Clip"/>): a reason must read back from JSON as written.
    /// </summary>
    private const int ShownNameChars = 80;

    private Accumulator Adapter(long luid)
    {
        if (!_adapters.TryGetValue(luid, out Accumulator? a))
        {
            a = new Accumulator();
            _adapters[luid] = a;
        }

        return a;
    }

    private PdhCounterOutcome Unattributable(string path, bool memory, ReadOnlySpan<char> name)
    {
        // A name we cannot attribute to an adapter: any adapter's figure may be short, so none is given.
        string shown = OsText.Clip(name.ToString(), ShownNameChars);
        string reason = $"{path}: instance name '{shown}' is not in the form the GPU counters use (pid_N_luid_0xH_0xL_phys_N_eng_N_engtype_T / luid_0xH_0xL_phys_N); cannot tell which adapter it belongs to";
        _failures.Report(_probe, "garbage", reason);
        foreach (Accumulator a in _adapters.Values)
        {
            if (memory)
            {
                a.HasMemory = false;
                a.DedicatedBytes = 0;
            }
            else
            {
                a.HasEngine = false;
                a.BusiestEnginePercent = 0;
            }
        }

        return new PdhCounterOutcome(SignalQuality.Unknown, reason);
    }

    private PdhCounterOutcome ReadFailed(string path, uint status, string? failure)
    {
        string reason = $"PdhGetFormattedCounterArrayW({path}) failed: {failure ?? PdhStatus.Describe(status)}";
        _failures.Report(_probe, failure is null ? "io" : Plausible.OutOfRangeKind, reason);
        return new PdhCounterOutcome(SignalQuality.Unknown, reason);
    }

    private PdhCounterOutcome OpenFailed(string function, string? path, uint status)
    {
        string call = path is null ? function : $"{function}({path})";
        string described = PdhStatus.Describe(status);

        // The counter set or PDH itself does not exist here: a lasting property of this Windows (no WDDM 2.x
        // driver, Windows before 10 1709, Server Core without the graphics kernel's counters, Wine).
        if (status is PdhStatus.NoObject or PdhStatus.NoCounter or PdhStatus.BadCounterName or PdhStatus.LibraryMissing)
        {
            return new PdhCounterOutcome(SignalQuality.NotSupported,
                $"{call} returned {described}: this Windows publishes no GPU performance counters (they come with WDDM 2.x drivers on Windows 10 1709 and later)");
        }

        string reason = $"{call} failed: {described}";
        _failures.Report(_probe, "io", reason);
        return new PdhCounterOutcome(SignalQuality.Unknown, reason);
    }

    private void Close()
    {
        if (_query != 0)
        {
            uint status = _api.CloseQuery(_query);
            if (status != PdhStatus.Success)
            {
                _failures.Report(_probe, "io", "PdhCloseQuery failed: " + PdhStatus.Describe(status));
            }
        }

        _query = _engineCounter = _memoryCounter = 0;
        _collections = 0;
    }

    private sealed class Accumulator
    {
        public bool HasEngine { get; set; }

        public double BusiestEnginePercent { get; set; }

        public string? EngineProblem { get; set; }

        public bool HasMemory { get; set; }

        public double DedicatedBytes { get; set; }

        public string? MemoryProblem { get; set; }
    }
}
