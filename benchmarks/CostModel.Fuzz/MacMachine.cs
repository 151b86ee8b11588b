using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using CostModel.Platforms.MacOS;
using CostModel.Platforms.MacOS.Compute;
using CostModel.Platforms.MacOS.Gpu;
using CostModel.Platforms.MacOS.Native;
using CostModel.Platforms.MacOS.Network;
using CostModel.Platforms.MacOS.Power;
using CostModel.Platforms.MacOS.Thermal;
using CostModel.Platforms.Tests.MacOS;
using CostModel.Platforms.Tests.MacOS.Compute;
using CostModel.Platforms.Tests.MacOS.Network;
using CostModel.Platforms.Tests.MacOS.Power;
using CostModel.Platforms.Tests.MacOS.Thermal;

namespace CostModel.Fuzz;

/// <summary>
/// A healthy Apple-silicon MacBook on battery, as the macOS probes' source interfaces answer for it,
/// built from the readings the platform tests use (tests/CostModel.Platforms.Tests/MacOS/Fixtures,
/// whose READMEs name each file's machine and source), and the edits one fuzz input makes to those
/// answers for one collection (<see cref="Apply"/>).
/// </summary>
/// <remarks>
/// <para>
/// The healthy Mac is a composite of recordings of several Macs, each the one the fixtures have:
/// the power sources and <c>AppleSmartBattery</c> of an Apple-silicon MacBook on battery
/// (<c>power/synthetic-iops-apple-silicon-battery.plist</c>, <c>power/synthetic-apple-silicon-battery.plist</c>:
/// values of raycast/extensions issue 15996); Low Power Mode off and thermal state nominal; no CPU power
/// status (Apple silicon: <c>kIOReturnNotFound</c>); the M1 Pro's accelerator
/// (<c>gpu/m1pro-monterey-stats1094.plist</c>, exelban/stats issue 1094); the dynamic store of a Mac
/// whose Surge VPN tunnel utun4 is primary (<c>network/scutil-global-ipv4-utun4-surge.plist</c>,
/// exelban/stats issue 2143), a satisfied path that is neither expensive nor constrained, and a
/// <c>NET_RT_IFLIST2</c> buffer built from the header layouts (synthetic by construction, as the
/// network fixtures' README says); the cores and performance levels of an M4 Pro MacBook Pro
/// (<c>compute/m4pro-sysctl-hw.txt</c>), the memory statistics and size of an M5 Pro MacBook Pro
/// (<c>compute/m5pro-vm_stat.txt</c>, 48 GiB), the first tick sample of an M1's eight CPUs
/// (<c>compute/m1-cpu-ticks.md</c>), memory pressure normal and a load average of 2.5.
/// </para>
/// <para>
/// An input is a run of segments of <see cref="SegmentHeaderBytes"/> bytes and a payload: the
/// source (<see cref="MacSource"/>, modulo their count), a key byte (which key of a dictionary,
/// which call, which counter, or an offset in 4-byte steps in a raw buffer), a kind byte (what
/// to put there: see <see cref="Value"/> for dictionaries, each source's comment for the rest), a
/// payload length, and that many bytes (fewer when the input ends first). The same input makes the
/// same edits. Before the next input every answer returns to the healthy Mac's, except the
/// counters (the CPU ticks and the primary interface's byte counters), which advance one second's
/// worth each collection and keep what an input set, as a live machine's counters do.
/// </para>
/// </remarks>
internal sealed class MacMachine
{
    /// <summary>The bytes before a segment's payload: source, key, kind, payload length.</summary>
    public const int SegmentHeaderBytes = 4;

    /// <summary>The primary interface's index (utun4), as <c>if_nametoindex</c> answers on the healthy Mac.</summary>
    public const ushort PrimaryIndex = 17;

    /// <summary>The IPv6 primary's index (utun0), for an input that removes the IPv4 value.</summary>
    public const ushort Ipv6Index = 18;

    /// <summary>en0's index: an interface that is not primary, whose message the walk skips.</summary>
    public const ushort En0Index = 6;

    /// <summary>
    /// The most copies of an entry a list edit adds: past the one battery and one GPU a MacBook has,
    /// and past the 16 entries each native layer reads at most, so that the fakes' bound (theirs,
    /// <see cref="FakePowerSources.ListBound"/>, <see cref="AcceleratorKeys.MaxServices"/>) is reached.
    /// </summary>
    public const int MaxCopies = 64;

    /// <summary>The step of a raw-buffer edit's offset: 4 bytes, the alignment of the fields it lands on.</summary>
    public const int OffsetStep = 4;

    /// <summary>A key no reader reads, so that an edit can add one.</summary>
    public const string NewKey = "FuzzKey";

    /// <summary>
    /// Ticks one CPU counts in a second at XNU's <c>hz</c> = 100 (bsd/conf/param.c), split as the
    /// healthy Mac's load: 20 user, 10 system, 70 idle, 0 nice (30 % busy).
    /// </summary>
    private const uint UserTicksPerSecond = 20;

    private const uint SystemTicksPerSecond = 10;

    private const uint IdleTicksPerSecond = 70;

    /// <summary>The primary interface's traffic on the healthy Mac: 1 Mbit/s in, 200 kbit/s out, in bytes a second.</summary>
    private const ulong ReceiveBytesPerSecond = 125_000;

    private const ulong TransmitBytesPerSecond = 25_000;

    /// <summary>The healthy Mac's 1-minute load average (threads): a laptop at work.</summary>
    private const double HealthyLoadAverage = 2.5;

    /// <summary>Segments of one input followed at most: AFL keeps inputs small, and a longer program only repeats edits.</summary>
    private const int MaxSegments = 64;

    // Values an edit of kind 3 (double) or 4 (integer) picks by its payload's first byte: the
    // bounds of the readers' ranges and just past them, sentinels, and what no machine publishes.
    private static readonly double[] SpecialDoubles =
        [double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.MaxValue, double.MinValue, -1, 0, -0.0, double.Epsilon, 1e300, 100, 100.000001, 125, -20_000.5, 1e-300];

    private static readonly long[] SpecialLongs =
        [long.MinValue, long.MaxValue, -1, 0, 1, 2, 4, 100, 101, 125, int.MaxValue, uint.MaxValue, 60_000, 65_535, -20_001, 20_001, 30_001, 100_001, 43_201, 65_536, 1L << 40, (1L << 40) + 1, 64L << 40];

    // The keys each dictionary source's edits pick from: those the readers read, a few they do not, and one none has.
    private static readonly string[] PowerSourceKeys =
    [
        MacPowerReader.TypeKey, MacPowerReader.StateKey, MacPowerReader.CurrentCapacityKey, MacPowerReader.MaxCapacityKey,
        MacPowerReader.IsChargingKey, MacPowerReader.IsChargedKey, MacPowerReader.IsPresentKey, MacPowerReader.TimeToEmptyKey,
        MacPowerReader.TimeToFullKey, "Transport Type", "Name", NewKey,
    ];

    private static readonly string[] SmartBatteryKeys =
    [
        MacPowerReader.VoltageKey, MacPowerReader.AmperageKey, MacPowerReader.InstantAmperageKey, MacPowerReader.RawCurrentCapacityKey,
        MacPowerReader.RawMaxCapacityKey, MacPowerReader.LegacyCurrentCapacityKey, MacPowerReader.LegacyMaxCapacityKey,
        MacPowerReader.BatteryInstalledKey, "IsCharging", "ExternalConnected", NewKey,
    ];

    private static readonly string[] CpuPowerStatusKeys = [MacThermalReader.SpeedLimitKey, "CPU_Available_CPUs", "CPU_Scheduler_Limit", NewKey];

    // A key with a '/' edits the dictionary under its first part (PerformanceStatistics).
    private static readonly string[] AcceleratorKeyPaths =
    [
        AcceleratorKeys.PerformanceStatistics, AcceleratorKeys.IOClass, AcceleratorKeys.IOObjectClass, AcceleratorKeys.Model,
        AcceleratorKeys.VendorId, AcceleratorKeys.GpuCoreCount, AcceleratorKeys.VramTotalMB,
        AcceleratorKeys.PerformanceStatistics + "/" + AcceleratorKeys.DeviceUtilization,
        AcceleratorKeys.PerformanceStatistics + "/" + AcceleratorKeys.GpuActivity,
        AcceleratorKeys.PerformanceStatistics + "/" + AcceleratorKeys.InUseSystemMemory,
        AcceleratorKeys.PerformanceStatistics + "/" + AcceleratorKeys.VramUsedBytes,
        AcceleratorKeys.PerformanceStatistics + "/" + AcceleratorKeys.TemperatureCelsius,
        NewKey,
    ];

    private static readonly string[] StoreKeys = [PrimaryInterface.InterfaceProperty, "PrimaryService", "Router", NewKey];

    // The integer sysctls the compute probe reads, then the two other scalar reads (index past the names).
    private static readonly string[] SysctlNames =
    [
        MacComputeProbe.LogicalCpu, MacComputeProbe.PerfLevelCount, "hw.perflevel0.logicalcpu", "hw.perflevel1.logicalcpu",
        MacComputeProbe.PressureLevel, MacComputeProbe.MemSize,
    ];

    private const int LoadAverageScalar = 6;
    private const int PageSizeScalar = 7;
    private const int ScalarCount = 8;

    // The healthy answers (never changed: an edit changes a copy).
    private readonly IReadOnlyList<IReadOnlyDictionary<string, object>> _healthySources;
    private readonly IReadOnlyList<IReadOnlyDictionary<string, object>> _healthyBatteries;
    private readonly IReadOnlyList<IReadOnlyDictionary<string, object>> _healthyAccelerators;
    private readonly IReadOnlyDictionary<string, object> _healthyIpv4;
    private readonly IReadOnlyDictionary<string, object> _ipv6;
    private readonly IReadOnlyDictionary<string, object> _intelCpuStatus;
    private readonly IReadOnlyList<IReadOnlyDictionary<string, object>> _otherSources;
    private readonly IReadOnlyList<IReadOnlyDictionary<string, object>> _otherBatteries;
    private readonly IReadOnlyList<IReadOnlyDictionary<string, object>> _otherAccelerators;
    private readonly Dictionary<string, long> _healthySysctls;
    private readonly VmStatistics64 _healthyVm;
    private readonly long _healthyPageBytes;
    private readonly PathUpdate _healthyPath;

    // The counters: machine state that advances each collection and keeps what an input set.
    private readonly CpuLoadTicks[] _ticks;
    private ulong _receiveBytes = 1_000_000;
    private ulong _transmitBytes = 200_000;

    // What the last input changed, for a violation's message.
    private readonly List<string> _changes = [];

    /// <summary>Loads the healthy Mac's readings (from MacOS/Fixtures beside the fuzzer).</summary>
    /// <param name="start">The clock at start, for the path update's time.</param>
    public MacMachine(DateTimeOffset start)
    {
        _healthySources = PropertyList.LoadServices("power/synthetic-iops-apple-silicon-battery.plist");
        _healthyBatteries = PropertyList.LoadServices("power/synthetic-apple-silicon-battery.plist");
        _otherSources = PropertyList.LoadServices("power/synthetic-iops-desktop-on-ups.plist");
        _otherBatteries = PropertyList.LoadServices("power/intel-battery-discharging.plist");
        _intelCpuStatus = PropertyList.LoadDictionary("thermal/synthetic-intel-cpu-power-status-nominal.plist");
        _healthyAccelerators = PropertyList.LoadServices("gpu/m1pro-monterey-stats1094.plist");
        _otherAccelerators = [.. PropertyList.LoadServices("gpu/synthetic-intel-amd-dual.plist"), .. PropertyList.LoadServices("gpu/synthetic-hostile.plist")];
        _healthyIpv4 = PropertyList.LoadDictionary("network/scutil-global-ipv4-utun4-surge.plist");
        _ipv6 = PropertyList.LoadDictionary("network/scutil-global-ipv6-anyconnect-utun0.plist");
        _healthyPath = new PathUpdate(PathMetered.StatusSatisfied, IsExpensive: false, IsConstrained: false, start);

        var compute = new FakeComputeSource()
            .WithSysctl("m4pro-sysctl-hw.txt")
            .WithVmStat("m5pro-vm_stat.txt", RecordedMac.M5ProMemoryBytes);
        compute.Sysctls[MacComputeProbe.PressureLevel] = MacMemory.PressureLevelNormal;
        _healthySysctls = new Dictionary<string, long>(compute.Sysctls, StringComparer.Ordinal);
        _healthyVm = compute.Vm;
        _healthyPageBytes = compute.PageBytes;
        _ticks = RecordedMac.LoadTicks("m1-cpu-ticks.md")[0];

        Compute = compute;
        Restore();
    }

    /// <summary>The sources the input's edits reach, in the order of a segment's first byte.</summary>
    public enum MacSource : byte
    {
        /// <summary>The internal battery's power-source description (IOPS): a dictionary edit.</summary>
        PowerSource,

        /// <summary>The <c>AppleSmartBattery</c> entry: a dictionary edit.</summary>
        SmartBattery,

        /// <summary>The CPU power status dictionary (an Intel Mac's; an edit publishes it on this one): a dictionary edit.</summary>
        CpuPowerStatus,

        /// <summary>The GPU's <c>IOAccelerator</c> entry, its <c>PerformanceStatistics</c> inside: a dictionary edit.</summary>
        Accelerator,

        /// <summary>The dynamic store's <c>State:/Network/Global/IPv4</c>: a dictionary edit.</summary>
        Store,

        /// <summary>The lists of entries (power sources, batteries, accelerators): key picks the list; kind 0 empties it, 1 repeats its first entry, 2 adds the other recorded entries.</summary>
        Lists,

        /// <summary>What a call answers besides a dictionary: an exception its interface documents, a status code, null (see <see cref="ApplyCall"/>).</summary>
        Calls,

        /// <summary>The raw <c>NET_RT_IFLIST2</c> buffer: kind 0 overwrites at the offset, 1 truncates there and appends, 2 replaces it.</summary>
        InterfaceList,

        /// <summary>The primary interface's counters: key 0 sets the received bytes, 1 the sent bytes, 2 moves the received bytes by a signed step (these persist), 3 sets the link speed.</summary>
        ByteCounters,

        /// <summary>The CPU ticks: kind 0 overwrites the persistent counters at the offset, 1 answers the payload as this collection's array, 2 fails the read.</summary>
        CpuTicks,

        /// <summary>The VM statistics: kind 0 overwrites the structure's bytes at the offset, 1 sets how many integers the kernel filled, 2 fails the read.</summary>
        VmStatistics,

        /// <summary>The compute probe's scalar reads (sysctls, load average, page size): key picks one; kind 0 an integer, 1 a special integer, 2 missing, 3 failed, 4 a double.</summary>
        Sysctls,
    }

    /// <summary>The number of <see cref="MacSource"/> values: a segment's first byte is taken modulo it.</summary>
    public static int SourceCount { get; } = Enum.GetValues<MacSource>().Length;

    /// <summary>The power sources and battery entries the power reader reads.</summary>
    public FakePowerSources Power { get; } = new();

    /// <summary>Low Power Mode and the thermal state.</summary>
    public FakeProcessInfo ProcessInfo { get; } = new();

    /// <summary>The CPU power status.</summary>
    public FakeCpuPowerStatus CpuStatus { get; } = new();

    /// <summary>The registry's accelerators.</summary>
    public FakeAccelerators Accelerators { get; } = new();

    /// <summary>The dynamic store, interface indexes and the interface list (the platform tests' fake).</summary>
    public FakeNetworkSource Network { get; } = new();

    /// <summary>The path monitor (the platform tests' fake).</summary>
    public FakePathMonitor Paths { get; } = new();

    /// <summary>The Mach and sysctl reads (the platform tests' fake).</summary>
    public FakeComputeSource Compute { get; }

    /// <summary>Makes one segment of an input.</summary>
    /// <param name="source">The source.</param>
    /// <param name="key">The key byte.</param>
    /// <param name="kind">The kind byte.</param>
    /// <param name="payload">The payload (at most 255 bytes).</param>
    /// <returns>The segment.</returns>
    public static byte[] Segment(MacSource source, int key, int kind, params byte[] payload)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, byte.MaxValue);
        return [(byte)source, (byte)key, (byte)kind, (byte)payload.Length, .. payload];
    }

    /// <summary>The index of <paramref name="key"/> among the keys a dictionary source's edits pick from.</summary>
    public static int KeyIndex(MacSource source, string key) => Array.IndexOf(KeysOf(source), key) is int i and >= 0
        ? i
        : throw new ArgumentException($"{key} is not a key of {source}", nameof(key));

    /// <summary>Puts every answer back to the healthy Mac's (the counters keep their values).</summary>
    public void Restore()
    {
        _changes.Clear();
        Power.Sources = [.. _healthySources];
        Power.SmartBatteries = [.. _healthyBatteries];
        Power.ProvidingType = MacPowerReader.BatteryPower;
        Power.SourcesFailure = null;
        Power.SmartBatteryFailure = null;
        ProcessInfo.LowPowerMode = false;
        ProcessInfo.Thermal = 0;
        ProcessInfo.Failure = null;
        CpuStatus.AppleSilicon = true;
        CpuStatus.Result = new CpuPowerStatus(null, MacThermalReader.IOReturnNotFound);
        CpuStatus.Failure = null;
        Accelerators.Services = [.. _healthyAccelerators];
        Accelerators.Found = null;
        Accelerators.Failure = null;

        Network.Store.Clear();
        Network.Store[PrimaryInterface.IPv4Key] = _healthyIpv4;
        Network.Indexes.Clear();
        Network.Indexes["utun4"] = PrimaryIndex;
        Network.Indexes["utun0"] = Ipv6Index;
        Network.Indexes["en0"] = En0Index;
        Network.StoreFailure = null;
        Network.Errno = 0;
        Network.ClaimedSize = null;
        Network.AlwaysTooSmall = false;
        Network.OverstateWritten = false;
        Paths.Latest = _healthyPath;

        Compute.Sysctls.Clear();
        foreach ((string name, long value) in _healthySysctls)
        {
            Compute.Sysctls[name] = value;
        }

        Compute.SysctlFailures.Clear();
        Compute.TicksRead = MacRead.Ok;
        Compute.LoadAverage = HealthyLoadAverage;
        Compute.LoadRead = MacRead.Ok;
        Compute.Vm = _healthyVm;
        Compute.VmFilledCount = VmStatistics64.IntegerCount;
        Compute.VmRead = MacRead.Ok;
        Compute.PageBytes = _healthyPageBytes;
        Compute.PageRead = MacRead.Ok;
    }

    /// <summary>
    /// Advances the counters by one second, puts every other answer back to the healthy Mac's,
    /// then makes the edits of <paramref name="input"/>.
    /// </summary>
    /// <param name="input">The input.</param>
    public void Apply(ReadOnlySpan<byte> input)
    {
        Restore();
        for (int cpu = 0; cpu < _ticks.Length; cpu++)
        {
            CpuLoadTicks t = _ticks[cpu];
            _ticks[cpu] = new CpuLoadTicks(unchecked(t.User + UserTicksPerSecond), unchecked(t.System + SystemTicksPerSecond), unchecked(t.Idle + IdleTicksPerSecond), t.Nice);
        }

        _receiveBytes = unchecked(_receiveBytes + ReceiveBytesPerSecond);
        _transmitBytes = unchecked(_transmitBytes + TransmitBytesPerSecond);

        CpuLoadTicks[]? ticksAnswer = null;
        ulong baudRate = 0;
        var listEdits = new List<(int Kind, int Offset, byte[] Payload)>();
        for (int segments = 0; input.Length >= SegmentHeaderBytes && segments < MaxSegments; segments++)
        {
            var source = (MacSource)(input[0] % SourceCount);
            int key = input[1];
            int kind = input[2];
            int length = Math.Min(input[3], input.Length - SegmentHeaderBytes);
            ReadOnlySpan<byte> payload = input.Slice(SegmentHeaderBytes, length);
            input = input[(SegmentHeaderBytes + length)..];
            switch (source)
            {
                case MacSource.PowerSource:
                    Power.Sources = EditFirst(Power.Sources, source, key, kind, payload);
                    break;
                case MacSource.SmartBattery:
                    Power.SmartBatteries = EditFirst(Power.SmartBatteries, source, key, kind, payload);
                    break;
                case MacSource.CpuPowerStatus:
                    CpuStatus.Result = new CpuPowerStatus(Edit(CpuStatus.Result.Status ?? _intelCpuStatus, source, key, kind, payload), 0);
                    break;
                case MacSource.Accelerator:
                    Accelerators.Services = EditFirst(Accelerators.Services, source, key, kind, payload);
                    break;
                case MacSource.Store:
                    Network.Store[PrimaryInterface.IPv4Key] = Edit(Network.Store.GetValueOrDefault(PrimaryInterface.IPv4Key) ?? _healthyIpv4, source, key, kind, payload);
                    break;
                case MacSource.Lists:
                    ApplyList(key, kind, payload);
                    break;
                case MacSource.Calls:
                    ApplyCall(key, kind, payload);
                    break;
                case MacSource.InterfaceList:
                    listEdits.Add((kind % 3, key * OffsetStep, payload.ToArray()));
                    _changes.Add($"{source}: {(kind % 3 == 0 ? "overwrite" : kind % 3 == 1 ? "truncate and append" : "replace")} at {key * OffsetStep}: {Hex(payload)}");
                    break;
                case MacSource.ByteCounters:
                    baudRate = ApplyCounter(key, payload, baudRate);
                    break;
                case MacSource.CpuTicks:
                    ticksAnswer = ApplyTicks(key, kind, payload) ?? ticksAnswer;
                    break;
                case MacSource.VmStatistics:
                    ApplyVm(key, kind, payload);
                    break;
                default:
                    ApplyScalar(key, kind, payload);
                    break;
            }
        }

        Compute.Ticks = ticksAnswer ?? [.. _ticks];
        Network.List = InterfaceListBytes(baudRate, listEdits);
    }

    /// <summary>What the last input changed, for a violation's message.</summary>
    public string Describe() => _changes.Count == 0 ? "none" : string.Join("; ", _changes);

    private static string[] KeysOf(MacSource source) => source switch
    {
        MacSource.PowerSource => PowerSourceKeys,
        MacSource.SmartBattery => SmartBatteryKeys,
        MacSource.CpuPowerStatus => CpuPowerStatusKeys,
        MacSource.Accelerator => AcceleratorKeyPaths,
        MacSource.Store => StoreKeys,
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "not a dictionary source"),
    };

    // The first entry of a list edited; an empty list (emptied by an earlier segment) stays empty.
    private List<IReadOnlyDictionary<string, object>> EditFirst(List<IReadOnlyDictionary<string, object>> list, MacSource source, int key, int kind, ReadOnlySpan<byte> payload)
    {
        if (list.Count > 0)
        {
            list[0] = Edit(list[0], source, key, kind, payload);
        }

        return list;
    }

    private Dictionary<string, object> Edit(IReadOnlyDictionary<string, object> healthy, MacSource source, int key, int kind, ReadOnlySpan<byte> payload)
    {
        string[] keys = KeysOf(source);
        string path = keys[key % keys.Length];
        object? value = Value(kind, payload);
        _changes.Add($"{source} {path} = {Show(value)}");
        var copy = new Dictionary<string, object>(healthy, StringComparer.Ordinal);
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            Set(copy, path, value);
            return copy;
        }

        // A nested key: the dictionary under the first part, copied (or a new one where there was none or another kind).
        string parent = path[..slash];
        var nested = copy.TryGetValue(parent, out object? inner) && inner is IReadOnlyDictionary<string, object> d
            ? new Dictionary<string, object>(d, StringComparer.Ordinal)
            : new Dictionary<string, object>(StringComparer.Ordinal);
        Set(nested, path[(slash + 1)..], value);
        copy[parent] = nested;
        return copy;
    }

    private static void Set(Dictionary<string, object> dictionary, string key, object? value)
    {
        if (value is null)
        {
            dictionary.Remove(key);
        }
        else
        {
            dictionary[key] = value;
        }
    }

    /// <summary>
    /// A value in the shape <c>CfConvert</c> produces, by kind (modulo 13): 0 the key removed (null),
    /// 1 an integer (the payload, little-endian, zero-padded), 2 a double (the payload's bits: NaN,
    /// infinities and huge values among them), 3 a special double, 4 a special integer (picked by the
    /// payload's first byte), 5 a boolean, 6 a string (the payload as UTF-8: empty, non-ASCII,
    /// replacement characters), 7 a long string (up to <c>CfConvert.MaxStringChars</c>, the most the
    /// conversion passes), 8 data, 9 a dictionary of the wrong shape, 10 a list, 11 a date,
    /// 12 a value that is not a property-list type, 13 a string of the payload's UTF-16 units as
    /// they are (a CFString holds UTF-16: NULs, controls and unpaired surrogates among them).
    /// </summary>
    private static object? Value(int kind, ReadOnlySpan<byte> payload) => (kind % 14) switch
    {
        0 => null,
        1 => Int64(payload),
        2 => BitConverter.Int64BitsToDouble(Int64(payload)),
        3 => SpecialDoubles[First(payload) % SpecialDoubles.Length],
        4 => SpecialLongs[First(payload) % SpecialLongs.Length],
        5 => (First(payload) & 1) != 0,
        6 => Encoding.UTF8.GetString(payload),
        7 => LongString(payload),
        8 => payload.ToArray(),
        9 => new Dictionary<string, object>(StringComparer.Ordinal) { [Encoding.UTF8.GetString(payload)] = Int64(payload) },
        10 => new object[] { Int64(payload), Encoding.UTF8.GetString(payload) },
        11 => AbsoluteTimeEpoch.AddSeconds(BinaryPrimitives.ReadInt32LittleEndian(Padded(payload, sizeof(int)))),
        12 => new UnsupportedCfValue(First(payload), "not a property-list type"),
        _ => new string(MemoryMarshal.Cast<byte, char>(payload)),
    };

    /// <summary><c>CFAbsoluteTime</c> 0, the epoch of the dates <c>CfConvert</c> produces: 2001-01-01T00:00:00Z.</summary>
    private static readonly DateTimeOffset AbsoluteTimeEpoch = new(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// 4096 UTF-16 units: <c>CfConvert.MaxStringChars</c>, the longest string the conversion passes
    /// (a longer one is an <see cref="InvalidDataException"/>, a Calls edit).
    /// </summary>
    private const int MaxStringChars = 4096;

    // The first two payload bytes give the length; the third, the character (from U+00A0 up: non-ASCII).
    private static string LongString(ReadOnlySpan<byte> payload)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(Padded(payload, sizeof(ushort))) % (MaxStringChars + 1);
        char c = (char)(payload.Length > 2 ? 0xA0 + payload[2] : 'x');
        return new string(c, length);
    }

    private void ApplyList(int key, int kind, ReadOnlySpan<byte> payload)
    {
        int which = key % 3;
        int what = kind % 3;
        int copies = First(payload) % (MaxCopies + 1);
        List<IReadOnlyDictionary<string, object>> list = which switch
        {
            0 => Power.Sources,
            1 => Power.SmartBatteries,
            _ => Accelerators.Services,
        };
        IReadOnlyList<IReadOnlyDictionary<string, object>> others = which switch
        {
            0 => _otherSources,
            1 => _otherBatteries,
            _ => _otherAccelerators,
        };
        if (what == 0)
        {
            list.Clear();
        }
        else if (what == 1 && list.Count > 0)
        {
            IReadOnlyDictionary<string, object> first = list[0];
            list.AddRange(Enumerable.Repeat(first, copies));
        }
        else if (what == 2)
        {
            list.AddRange(others);
        }

        string name = which switch { 0 => "power sources", 1 => "AppleSmartBattery entries", _ => "accelerators" };
        _changes.Add(what switch { 0 => $"{name}: none", 1 => $"{name}: the first repeated {copies} more times", _ => $"{name}: the other recorded entries added" });
    }

    /// <summary>
    /// A call's answer besides its dictionary, by key (modulo 9): 0 the IOPS snapshot (kind 0 throws
    /// <see cref="IOException"/>, 1 <see cref="InvalidDataException"/>, 2 gives the payload as the
    /// providing type, empty: none); 1 the battery entries (kind 0 <see cref="IOException"/>, 1
    /// <see cref="InvalidDataException"/>); 2 NSProcessInfo (kind 0 throws
    /// <see cref="InvalidOperationException"/>, 1 Low Power Mode not implemented, 2 Low Power Mode
    /// from the payload, 3 thermal state not implemented, 4 the thermal state from the payload);
    /// 3 the CPU power status (kind 0 <see cref="InvalidDataException"/>, 1 no status with the
    /// payload as the IOReturn, 2 an Intel Mac's answer, 3 an Apple-silicon Mac that publishes the
    /// nominal status); 4 the accelerator search (kind 0 <see cref="IOException"/>, 1
    /// <see cref="InvalidDataException"/>, 2 a matched count from the payload); 5 the dynamic store
    /// (kind 0 <see cref="IOException"/>, 1 <see cref="InvalidDataException"/>, 2 no IPv4 value,
    /// 3 no IPv4 value and the recorded IPv6 one); 6 <c>if_nametoindex("utun4")</c> from the payload;
    /// 7 the path monitor (kind 0 no update yet, else an update whose status is the payload's first
    /// byte (signed) and whose second byte's bits say expensive and constrained); 8 the interface
    /// list's call (kind 0 the payload as errno, 1 a size query that claims the payload's size, 2
    /// always <c>ENOMEM</c>, 3 a written length one past the buffer).
    /// </summary>
    private void ApplyCall(int key, int kind, ReadOnlySpan<byte> payload)
    {
        string change;
        switch (key % 9)
        {
            case 0:
                (change, Power.SourcesFailure, Power.ProvidingType) = (kind % 3) switch
                {
                    0 => ("IOPS snapshot throws IOException", (Exception?)new IOException("IOPSCopyPowerSourcesInfo returned NULL (fuzz)"), Power.ProvidingType),
                    1 => ("IOPS snapshot throws InvalidDataException", new InvalidDataException("CFString of 5000 UTF-16 units exceeds 4096 (fuzz)"), Power.ProvidingType),
                    _ => ($"providing type = {Show(payload.IsEmpty ? null : Encoding.UTF8.GetString(payload))}", Power.SourcesFailure, payload.IsEmpty ? null : Encoding.UTF8.GetString(payload)),
                };
                break;
            case 1:
                Power.SmartBatteryFailure = kind % 2 == 0
                    ? new IOException("IOServiceGetMatchingServices(AppleSmartBattery) failed: kern_return_t 268435459 (fuzz)")
                    : new InvalidDataException("property list nested deeper than 8 (fuzz)");
                change = $"AppleSmartBattery read throws {Power.SmartBatteryFailure.GetType().Name}";
                break;
            case 2:
                switch (kind % 5)
                {
                    case 0: ProcessInfo.Failure = new InvalidOperationException("[NSProcessInfo processInfo] returned nil (fuzz)"); break;
                    case 1: ProcessInfo.LowPowerMode = null; break;
                    case 2: ProcessInfo.LowPowerMode = (First(payload) & 1) != 0; break;
                    case 3: ProcessInfo.Thermal = null; break;
                    default: ProcessInfo.Thermal = Int64(payload); break;
                }

                change = $"NSProcessInfo: failure {ProcessInfo.Failure?.GetType().Name ?? "none"}, Low Power Mode {Show(ProcessInfo.LowPowerMode)}, thermal state {Show(ProcessInfo.Thermal)}";
                break;
            case 3:
                switch (kind % 4)
                {
                    case 0: CpuStatus.Failure = new InvalidDataException("CFDictionary of 5000 entries exceeds 4096 (fuzz)"); break;
                    case 1: CpuStatus.Result = new CpuPowerStatus(null, BinaryPrimitives.ReadInt32LittleEndian(Padded(payload, sizeof(int)))); break;
                    case 2: CpuStatus.AppleSilicon = false; break;
                    default: CpuStatus.Result = new CpuPowerStatus(_intelCpuStatus, 0); break;
                }

                change = $"CPU power status: Apple silicon {CpuStatus.AppleSilicon}, IOReturn 0x{CpuStatus.Result.IOReturn:x8}, status {(CpuStatus.Result.Status is null ? "none" : "present")}, failure {CpuStatus.Failure?.GetType().Name ?? "none"}";
                break;
            case 4:
                switch (kind % 3)
                {
                    case 0: Accelerators.Failure = new IOException("IOServiceGetMatchingServices(IOAccelerator) failed: kern_return_t 268435459 (fuzz)"); break;
                    case 1: Accelerators.Failure = new InvalidDataException("CFData of 70000 bytes exceeds 65536 (fuzz)"); break;
                    default: Accelerators.Found = BinaryPrimitives.ReadInt32LittleEndian(Padded(payload, sizeof(int))); break;
                }

                change = $"accelerator search: failure {Accelerators.Failure?.GetType().Name ?? "none"}, found {Show(Accelerators.Found)}";
                break;
            case 5:
                switch (kind % 4)
                {
                    case 0: Network.StoreFailure = new IOException("SCDynamicStoreCopyValue: no dynamic store (fuzz)"); break;
                    case 1: Network.StoreFailure = new InvalidDataException("expected a CFDictionary, got type id 7 (fuzz)"); break;
                    case 2: Network.Store.Remove(PrimaryInterface.IPv4Key); break;
                    default:
                        Network.Store.Remove(PrimaryInterface.IPv4Key);
                        Network.Store[PrimaryInterface.IPv6Key] = _ipv6;
                        break;
                }

                change = $"dynamic store: failure {Network.StoreFailure?.GetType().Name ?? "none"}, keys {string.Join(", ", Network.Store.Keys)}";
                break;
            case 6:
                Network.Indexes["utun4"] = BinaryPrimitives.ReadUInt32LittleEndian(Padded(payload, sizeof(uint)));
                change = $"if_nametoindex(utun4) = {Network.Indexes["utun4"]}";
                break;
            case 7:
                Paths.Latest = kind % 2 == 0 ? null
                    : new PathUpdate((sbyte)First(payload), (Second(payload) & 1) != 0, (Second(payload) & 2) != 0, _healthyPath.ReceivedAt);
                change = $"path update: {Paths.Latest?.ToString() ?? "none"}";
                break;
            default:
                switch (kind % 4)
                {
                    case 0: Network.Errno = BinaryPrimitives.ReadInt32LittleEndian(Padded(payload, sizeof(int))); break;
                    case 1: Network.ClaimedSize = (nuint)BinaryPrimitives.ReadUInt64LittleEndian(Padded(payload, sizeof(ulong))); break;
                    case 2: Network.AlwaysTooSmall = true; break;
                    default: Network.OverstateWritten = true; break;
                }

                change = $"NET_RT_IFLIST2 call: errno {Network.Errno}, claimed size {Show(Network.ClaimedSize)}, always ENOMEM {Network.AlwaysTooSmall}, written overstated {Network.OverstateWritten}";
                break;
        }

        _changes.Add(change);
    }

    private ulong ApplyCounter(int key, ReadOnlySpan<byte> payload, ulong baudRate)
    {
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(Padded(payload, sizeof(ulong)));
        switch (key % 4)
        {
            case 0: _receiveBytes = value; break;
            case 1: _transmitBytes = value; break;
            case 2: _receiveBytes = unchecked(_receiveBytes + value); break;
            default: baudRate = value; break;
        }

        _changes.Add($"counters: received {_receiveBytes}, sent {_transmitBytes}, link {baudRate} bit/s");
        return baudRate;
    }

    private CpuLoadTicks[]? ApplyTicks(int key, int kind, ReadOnlySpan<byte> payload)
    {
        switch (kind % 3)
        {
            case 0:
                Span<byte> persistent = MemoryMarshal.AsBytes(_ticks.AsSpan());
                int offset = key * OffsetStep;
                if (offset < persistent.Length)
                {
                    payload[..Math.Min(payload.Length, persistent.Length - offset)].CopyTo(persistent[offset..]);
                }

                _changes.Add($"CPU ticks: {Hex(payload)} written at byte {offset} (kept)");
                return null;
            case 1:
                CpuLoadTicks[] answer = MemoryMarshal.Cast<byte, CpuLoadTicks>(payload).ToArray();
                _changes.Add($"CPU ticks answered: {answer.Length} CPUs, {Hex(payload)}");
                return answer;
            default:
                Compute.TicksRead = MacRead.Failed(First(payload) % 2 == 0 ? "io" : "garbage", "host_processor_info(PROCESSOR_CPU_LOAD_INFO) failed: kern_return_t 5 (fuzz)");
                _changes.Add("CPU ticks: the read fails");
                return null;
        }
    }

    private void ApplyVm(int key, int kind, ReadOnlySpan<byte> payload)
    {
        switch (kind % 3)
        {
            case 0:
                VmStatistics64 vm = Compute.Vm;
                Span<byte> bytes = MemoryMarshal.AsBytes(new Span<VmStatistics64>(ref vm));
                int offset = key * OffsetStep;
                if (offset < bytes.Length)
                {
                    payload[..Math.Min(payload.Length, bytes.Length - offset)].CopyTo(bytes[offset..]);
                }

                Compute.Vm = vm;
                _changes.Add($"VM statistics: {Hex(payload)} written at byte {offset}");
                break;
            case 1:
                Compute.VmFilledCount = First(payload);
                _changes.Add($"VM statistics: {Compute.VmFilledCount} integers filled");
                break;
            default:
                Compute.VmRead = MacRead.Failed("io", "host_statistics64(HOST_VM_INFO64) failed: kern_return_t 4 (fuzz)");
                _changes.Add("VM statistics: the read fails");
                break;
        }
    }

    private void ApplyScalar(int key, int kind, ReadOnlySpan<byte> payload)
    {
        int which = key % ScalarCount;
        int what = kind % 5;
        long integer = what == 1 ? SpecialLongs[First(payload) % SpecialLongs.Length] : Int64(payload);
        MacRead read = what switch
        {
            2 => MacRead.Missing("no such value on this Mac (fuzz)"),
            3 => MacRead.Failed("io", "the call failed: errno 5 (fuzz)"),
            _ => MacRead.Ok,
        };
        string name;
        if (which == LoadAverageScalar)
        {
            name = "getloadavg";
            Compute.LoadRead = read;
            Compute.LoadAverage = what == 4 ? SpecialDoubles[First(payload) % SpecialDoubles.Length] : integer;
        }
        else if (which == PageSizeScalar)
        {
            name = "host_page_size";
            Compute.PageRead = read;
            Compute.PageBytes = integer;
        }
        else
        {
            name = SysctlNames[which];
            if (what == 2)
            {
                Compute.Sysctls.Remove(name);
            }
            else if (what == 3)
            {
                Compute.SysctlFailures[name] = read;
            }
            else
            {
                Compute.Sysctls[name] = what == 4 ? (long)BitConverter.Int64BitsToDouble(integer) : integer;
            }
        }

        _changes.Add($"{name}: {(what == 2 ? "missing" : what == 3 ? "fails" : "answers " + (which == LoadAverageScalar ? Compute.LoadAverage.ToString("R", CultureInfo.InvariantCulture) : integer.ToString(CultureInfo.InvariantCulture)))}");
    }

    // en0 (not primary: its message is skipped, so its counters, 5 GB in and 700 MB out on a
    // 1 Gbit/s link, are any a Wi-Fi interface might show), the primary utun4 and utun0 (the IPv6
    // primary) with the counters, each followed by an address message.
    private byte[] InterfaceListBytes(ulong baudRate, List<(int Kind, int Offset, byte[] Payload)> edits)
    {
        byte[] list = new RouteMessageBuffer()
            .Interface(En0Index, receiveBytes: 5_000_000_000, transmitBytes: 700_000_000, baudRate: 1_000_000_000).Address(En0Index)
            .Interface(PrimaryIndex, _receiveBytes, _transmitBytes, baudRate).Address(PrimaryIndex)
            .Interface(Ipv6Index, _receiveBytes, _transmitBytes, baudRate).Address(Ipv6Index)
            .ToArray();
        foreach ((int kind, int offset, byte[] payload) in edits)
        {
            int at = Math.Min(offset, list.Length);
            list = kind switch
            {
                0 => [.. list.AsSpan(0, at), .. payload, .. list.AsSpan(Math.Min(list.Length, at + payload.Length))],
                1 => [.. list.AsSpan(0, at), .. payload],
                _ => payload,
            };
        }

        return list;
    }

    private static long Int64(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(Padded(payload, sizeof(long)));

    private static byte First(ReadOnlySpan<byte> payload) => payload.IsEmpty ? (byte)0 : payload[0];

    private static byte Second(ReadOnlySpan<byte> payload) => payload.Length < 2 ? (byte)0 : payload[1];

    // The payload's first bytes, zero-padded to a width.
    private static ReadOnlySpan<byte> Padded(ReadOnlySpan<byte> payload, int width)
    {
        if (payload.Length >= width)
        {
            return payload[..width];
        }

        byte[] padded = new byte[width];
        payload.CopyTo(padded);
        return padded;
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes[..Math.Min(bytes.Length, 32)]) + (bytes.Length > 32 ? "..." : "");

    private static string Show(object? value) => value switch
    {
        null => "(none)",
        string s => $"\"{(s.Length > 40 ? string.Concat(s.AsSpan(0, 40), "...") : s)}\" ({s.Length} chars)",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        byte[] b => $"<{Hex(b)}>",
        IReadOnlyDictionary<string, object> => "a dictionary",
        object[] => "a list",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?",
    };

    /// <summary>The registry's accelerators: what an input sets.</summary>
    internal sealed class FakeAccelerators : IMacAcceleratorSource
    {
        /// <summary>The services' properties.</summary>
        public List<IReadOnlyDictionary<string, object>> Services { get; set; } = [];

        /// <summary>How many the search matched; null: as many as <see cref="Services"/>.</summary>
        public int? Found { get; set; }

        /// <summary>Thrown by <see cref="Scan"/> when set.</summary>
        public Exception? Failure { get; set; }

        /// <inheritdoc />
        /// <remarks>At most <see cref="AcceleratorKeys.MaxServices"/>, as the native layer reads; found, all of them unless an input says otherwise.</remarks>
        public AcceleratorScan Scan() =>
            Failure is { } failure ? throw failure : new AcceleratorScan([.. Services.Take(AcceleratorKeys.MaxServices)], Found ?? Services.Count);
    }
}
