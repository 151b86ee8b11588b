using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CostModel.Platforms.Windows.Compute;
using CostModel.Platforms.Windows.Container;
using CostModel.Platforms.Windows.Network;
using CostModel.Platforms.Windows.Power;
using CostModel.Platforms.Windows.Thermal;

namespace CostModel.Fuzz;

/// <summary>
/// A healthy Windows laptop on battery, as the Windows probes' raw-API seams answer for it (the
/// Win32 structures themselves, as bytes), and the edits one fuzz input makes to those answers for
/// one collection (<see cref="Apply"/>).
/// </summary>
/// <remarks>
/// <para>
/// The healthy laptop: the power structures of the power tests' discharging laptop
/// (tests/CostModel.Platforms.Windows.Tests/Power/WindowsPowerProbeTests.cs, <c>LaptopDischarging</c>:
/// 80 % by the meter, 37 500 of 50 000 mWh, 10 W out, Windows' estimate 13 000 s); eight logical
/// processors rated 3 000 MHz and unthrottled (the thermal tests' <c>Processors(…, 3000, 3000)</c>);
/// 16 GiB of memory, 8 GiB available (the compute tests' <c>FakeComputeApi</c> default); no job (a
/// desktop session's process is in none); the IPv4 route through a Wi-Fi interface (index 12,
/// <c>IF_TYPE_IEEE80211</c> 71, up, 866.7 Mbit/s, Wi-Fi 5 at 80 MHz), no IPv6 route
/// (ERROR_NETWORK_UNREACHABLE, as the network tests' fake), and an unrestricted connection
/// (NLM_CONNECTION_COST_UNRESTRICTED); and an Intel and an NVIDIA GPU beside the Basic Render Driver,
/// read through PDH, DXGI and NVML (WinMachine.Gpu.cs). The structures' layouts are Microsoft's
/// (winbase.h, winnt.h, powerbase.h, netioapi.h, dxgi.h, pdh.h) and NVIDIA's (nvml.h), as the seams
/// declare them, or the fake's where a call answers more than one structure.
/// </para>
/// <para>
/// An input is a run of segments of <see cref="SegmentHeaderBytes"/> bytes and a payload: the call
/// (<see cref="WinCall"/>, modulo their count), the mode (modulo 3: 0 lays the payload over the
/// answer's bytes at the offset, 1 fails the call with the payload's first four bytes as its error
/// code, NTSTATUS or HRESULT, 2 zeroes the answer), an offset in steps of the answer's size over
/// 256 (at least one byte), a payload length, and that many bytes (fewer when the input ends first).
/// So every field of every structure can take every bit pattern. Before the next input every answer
/// returns to the healthy laptop's, except the counters (<c>GetSystemTimes</c>' times, the job's CPU
/// time and the interface's octets), which advance one second's worth each collection and keep what
/// an input set, as a live machine's do.
/// </para>
/// </remarks>
internal sealed partial class WinMachine
{
    /// <summary>The bytes before a segment's payload: call, mode, offset, payload length.</summary>
    public const int SegmentHeaderBytes = 4;

    /// <summary>The Wi-Fi interface's index, the IPv4 route's on the healthy laptop.</summary>
    public const uint WifiIndex = 12;

    /// <summary>Logical processors on the healthy laptop.</summary>
    public const int Processors = 8;

    /// <summary>
    /// Entries of <c>PROCESSOR_POWER_INFORMATION</c> the fake holds: twice the healthy laptop's
    /// processors, so that an edited processor count past them reads entries an input wrote.
    /// </summary>
    public const int ProcessorEntries = 2 * Processors;

    /// <summary>NLM_CONNECTION_COST_UNRESTRICTED: the healthy connection's cost flags.</summary>
    public const uint CostUnrestricted = 0x1;

    /// <summary>ERROR_NETWORK_UNREACHABLE (1231): the healthy laptop has no IPv6 route.</summary>
    public const int ErrorNetworkUnreachable = 1231;

    /// <summary>The error a failing call answers when the payload is shorter than four bytes: ERROR_ACCESS_DENIED (5).</summary>
    public const int DefaultError = 5;

    /// <summary>STATUS_BUFFER_TOO_SMALL: <c>CallNtPowerInformation</c>'s answer when the buffer holds fewer entries than there are processors.</summary>
    public const int StatusBufferTooSmall = unchecked((int)0xC0000023);

    /// <summary>The processors' rated clock and limit, in MHz (the thermal tests' 3 000).</summary>
    private const uint RatedMhz = 3_000;

    /// <summary>Memory: 16 GiB installed, 8 GiB available, in bytes (the compute tests' fake).</summary>
    private const ulong TotalMemoryBytes = 16UL << 30;

    private const ulong AvailableMemoryBytes = 8UL << 30;

    /// <summary>
    /// <c>GetSystemTimes</c> counts 100 ns units summed over the processors: eight processors count
    /// 8 × 10^7 a second, split as the healthy laptop's load, 30 % busy (half user, half kernel).
    /// </summary>
    private const ulong IdleUnitsPerSecond = 56_000_000;

    private const ulong KernelBusyUnitsPerSecond = 12_000_000;

    private const ulong UserUnitsPerSecond = 12_000_000;

    /// <summary>The job's CPU time a second, in 100 ns units, when an input puts the process in a job: one busy processor.</summary>
    private const ulong JobUnitsPerSecond = 10_000_000;

    /// <summary>The Wi-Fi interface's traffic: 1 Mbit/s in, 200 kbit/s out, in bytes a second.</summary>
    private const ulong ReceiveBytesPerSecond = 125_000;

    private const ulong TransmitBytesPerSecond = 25_000;

    /// <summary>The Wi-Fi link speed, in bits a second: Wi-Fi 5, two streams at 80 MHz (866.7 Mbit/s).</summary>
    private const ulong LinkBitsPerSecond = 866_700_000;

    /// <summary><c>IF_TYPE_IEEE80211</c> (ipifcons.h): a Wi-Fi interface.</summary>
    private const uint TypeWifi = 71;

    /// <summary>Segments of one input followed at most: AFL keeps inputs small, and a longer program only repeats edits.</summary>
    private const int MaxSegments = 64;

    /// <summary>The offsets a segment's offset byte spans: one byte's values.</summary>
    private const int OffsetSpan = 256;

    private readonly Answer[] _answers;
    private readonly List<string> _changes = [];

    /// <summary>Builds the healthy laptop.</summary>
    public WinMachine()
    {
        var processors = new ProcessorPowerInformation[ProcessorEntries];
        for (int i = 0; i < Processors; i++)
        {
            processors[i] = new ProcessorPowerInformation { Number = (uint)i, MaxMhz = RatedMhz, CurrentMhz = RatedMhz, MhzLimit = RatedMhz, MaxIdleState = 2 };
        }

        MibIfRow2 row = default;
        row.InterfaceIndex = WifiIndex;
        row.InterfaceLuid = (ulong)TypeWifi << 48 | WifiIndex;
        row.SetAlias("Wi-Fi");
        row.SetDescription("Intel(R) Wi-Fi 6 AX201 160MHz");
        row.Type = TypeWifi;
        row.OperStatus = 1;
        row.ReceiveLinkSpeed = LinkBitsPerSecond;
        row.TransmitLinkSpeed = LinkBitsPerSecond;
        row.InOctets = 1_000_000;
        row.OutOctets = 200_000;

        _answers = new Answer[CallCount];
        Set(WinCall.PowerStatus, new SystemPowerStatus { ACLineStatus = 0, BatteryFlag = 1, BatteryLifePercent = 80, BatteryLifeTime = 7_200, BatteryFullLifeTime = uint.MaxValue });
        Set(WinCall.BatteryState, new SystemBatteryState { BatteryPresent = 1, Discharging = 1, MaxCapacity = 50_000, RemainingCapacity = 37_500, Rate = -10_000, EstimatedTime = 13_000 });
        _answers[(int)WinCall.ProcessorInformation] = new Answer(MemoryMarshal.AsBytes(processors.AsSpan()).ToArray(), Counter: false);
        Set(WinCall.ProcessorCount, Processors);
        Set(WinCall.SystemTimes, new SystemTimes(Idle: 5_000_000_000, Kernel: 6_000_000_000, User: 2_000_000_000), counter: true);
        Set(WinCall.PhysicalMemory, new PhysicalMemory(TotalMemoryBytes, AvailableMemoryBytes));
        Set(WinCall.JobCpuTime, 3_000_000_000UL, counter: true);
        Set(WinCall.InJob, (byte)0);
        Set(WinCall.CpuRateControl, new JobCpuRateControl(0, 0));
        Set(WinCall.MemoryLimits, new JobMemoryLimits(0, 0, 0, 0));
        Set(WinCall.JobCommit, 2UL << 30);
        Set(WinCall.ProcessCommit, 200UL << 20);
        Set(WinCall.BestInterface, new Routes(0, WifiIndex, ErrorNetworkUnreachable, 0));
        _answers[(int)WinCall.InterfaceRow] = new Answer(MemoryMarshal.AsBytes(new Span<MibIfRow2>(ref row)).ToArray(), Counter: false);
        Set(WinCall.ConnectionCost, new CostAnswer(0, 0, CostUnrestricted));
        BuildGpu();

        Power = new PowerApi(this);
        ProcessorPower = new ProcessorApi(this);
        Compute = new ComputeApi(this);
        Jobs = new JobApi(this);
        Network = new NetworkApi(this);
        Cost = new CostApi(this);
    }

    /// <summary>The answers a segment's first byte picks (modulo their count).</summary>
    public enum WinCall : byte
    {
        /// <summary><c>GetSystemPowerStatus</c>: <see cref="SystemPowerStatus"/>, 12 bytes.</summary>
        PowerStatus,

        /// <summary><c>CallNtPowerInformation(SystemBatteryState)</c>: <see cref="SystemBatteryState"/>, 32 bytes (its error an NTSTATUS).</summary>
        BatteryState,

        /// <summary><c>CallNtPowerInformation(ProcessorInformation)</c>: <see cref="ProcessorEntries"/> × <see cref="ProcessorPowerInformation"/> (its error an NTSTATUS).</summary>
        ProcessorInformation,

        /// <summary><c>GetActiveProcessorCount</c> (the thermal, compute and container probes all ask it): a 32-bit count.</summary>
        ProcessorCount,

        /// <summary><c>GetSystemTimes</c>: <see cref="SystemTimes"/>, a counter.</summary>
        SystemTimes,

        /// <summary><c>GlobalMemoryStatusEx</c>: <see cref="PhysicalMemory"/>.</summary>
        PhysicalMemory,

        /// <summary>The job's accounting: its CPU time, a 64-bit counter.</summary>
        JobCpuTime,

        /// <summary><c>IsProcessInJob</c>: one byte, non-zero in a job.</summary>
        InJob,

        /// <summary><c>JOBOBJECT_CPU_RATE_CONTROL_INFORMATION</c>: <see cref="JobCpuRateControl"/>.</summary>
        CpuRateControl,

        /// <summary><c>JOBOBJECT_EXTENDED_LIMIT_INFORMATION</c>'s memory part: <see cref="JobMemoryLimits"/>.</summary>
        MemoryLimits,

        /// <summary><c>JOBOBJECT_MEMORY_USAGE_INFORMATION.JobMemory</c>: 64-bit bytes.</summary>
        JobCommit,

        /// <summary><c>PROCESS_MEMORY_COUNTERS_EX.PrivateUsage</c>: 64-bit bytes.</summary>
        ProcessCommit,

        /// <summary><c>GetBestInterfaceEx</c> for IPv4 and IPv6: <see cref="Routes"/> (a failed call fails both families).</summary>
        BestInterface,

        /// <summary><c>GetIfEntry2</c>: <see cref="MibIfRow2"/>, 1 352 bytes; its octets are counters (the row answers any index asked).</summary>
        InterfaceRow,

        /// <summary>The Network List Manager: <see cref="CostAnswer"/>, the HRESULTs of creation and <c>GetCost</c> and the cost flags.</summary>
        ConnectionCost,

        /// <summary>DXGI's adapter list: <see cref="DxgiAnswer"/> (a failure is <c>CreateDXGIFactory1</c>'s HRESULT); read when the GPU probe starts and every 30 s.</summary>
        GpuAdapters,

        /// <summary>PDH's query: <see cref="PdhOpenAnswer"/> (a failure is <c>PdhOpenQueryW</c>'s status); read when the GPU probe starts.</summary>
        PdhOpen,

        /// <summary><c>PdhCollectQueryData</c>: a 32-bit PDH status (a failure is the status); each second, on the GPU probe's timer.</summary>
        PdhCollect,

        /// <summary><c>PdhGetFormattedCounterArrayW</c> for <c>\GPU Engine(*)\Utilization Percentage</c>: <see cref="PdhArrayAnswer"/> (a failure is the call's status).</summary>
        PdhEngines,

        /// <summary><c>PdhGetFormattedCounterArrayW</c> for <c>\GPU Adapter Memory(*)\Dedicated Usage</c>: <see cref="PdhArrayAnswer"/> (a failure is the call's status).</summary>
        PdhMemory,

        /// <summary>NVML's load and device list: <see cref="NvmlDevicesAnswer"/> (a failure is <c>nvmlInit_v2</c>'s code); read when the GPU probe starts and when it lists again.</summary>
        NvmlDevices,

        /// <summary>NVML's readings of each device: <see cref="NvmlReadingsAnswer"/> (a failure is every call's code); each collection.</summary>
        NvmlReadings,
    }

    /// <summary>The number of <see cref="WinCall"/> values: a segment's first byte is taken modulo it.</summary>
    public static int CallCount { get; } = Enum.GetValues<WinCall>().Length;

    /// <summary>The power probe's seam.</summary>
    public IWindowsPowerApi Power { get; }

    /// <summary>The thermal probe's seam.</summary>
    public IProcessorPowerApi ProcessorPower { get; }

    /// <summary>The compute probe's seam.</summary>
    public IWindowsComputeApi Compute { get; }

    /// <summary>The container probe's seam.</summary>
    public IWindowsJobApi Jobs { get; }

    /// <summary>The network probe's IP Helper seam.</summary>
    public IWindowsNetworkApi Network { get; }

    /// <summary>The network probe's cost seam.</summary>
    public INetworkCostApi Cost { get; }

    /// <summary>True when the last input edited the connection cost (the target then asks the metered monitor again).</summary>
    public bool CostEdited { get; private set; }

    /// <summary>A segment: call, mode, offset, payload length and the payload.</summary>
    /// <param name="call">The call.</param>
    /// <param name="mode">0 overlay, 1 fail, 2 zero.</param>
    /// <param name="offset">The offset, in the answer's steps.</param>
    /// <param name="payload">The payload (at most 255 bytes).</param>
    /// <returns>The segment's bytes.</returns>
    public static byte[] Segment(WinCall call, int mode, int offset, params byte[] payload) =>
        [(byte)call, (byte)mode, (byte)offset, (byte)payload.Length, .. payload];

    /// <summary>The offset step of a call's answer: its size over 256, at least one byte.</summary>
    /// <param name="size">The answer's size in bytes.</param>
    /// <returns>The step in bytes.</returns>
    public static int Step(int size) => Math.Max(1, (size + OffsetSpan - 1) / OffsetSpan);

    /// <summary>Restores the healthy answers (advancing and keeping the counters) and makes the input's edits.</summary>
    /// <param name="input">The input.</param>
    public void Apply(ReadOnlySpan<byte> input)
    {
        Restore();
        _changes.Clear();
        CostEdited = false;
        int segments = 0;
        while (input.Length >= SegmentHeaderBytes && segments++ < MaxSegments)
        {
            var call = (WinCall)(input[0] % CallCount);
            int mode = input[1] % 3;
            int offsetSteps = input[2];
            int length = Math.Min(input[3], input.Length - SegmentHeaderBytes);
            ReadOnlySpan<byte> payload = input.Slice(SegmentHeaderBytes, length);
            input = input[(SegmentHeaderBytes + length)..];
            Answer answer = _answers[(int)call];
            CostEdited |= call == WinCall.ConnectionCost;
            switch (mode)
            {
                case 0:
                    int offset = Math.Min(offsetSteps * Step(answer.Current.Length), answer.Current.Length);
                    int copied = Math.Min(payload.Length, answer.Current.Length - offset);
                    payload[..copied].CopyTo(answer.Current.AsSpan(offset));
                    _changes.Add(string.Create(CultureInfo.InvariantCulture, $"{call}[{offset}..{offset + copied}] = {Convert.ToHexString(payload[..copied])}"));
                    break;
                case 1:
                    answer.Error = payload.Length >= sizeof(int) ? BinaryPrimitives.ReadInt32LittleEndian(payload) : DefaultError;
                    _changes.Add(string.Create(CultureInfo.InvariantCulture, $"{call} fails with 0x{answer.Error:X8}"));
                    break;
                default:
                    answer.Current.AsSpan().Clear();
                    _changes.Add($"{call} zeroed");
                    break;
            }
        }

        ConfigureGpu();
    }

    /// <summary>What the last input changed, for a violation's message.</summary>
    /// <returns>The edits, or "none".</returns>
    public string Describe() => _changes.Count == 0 ? "none" : string.Join("; ", _changes);

    private void Set<T>(WinCall call, T healthy, bool counter = false)
        where T : unmanaged =>
        _answers[(int)call] = new Answer(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in healthy)).ToArray(), counter);

    private T Read<T>(WinCall call)
        where T : unmanaged => MemoryMarshal.Read<T>(_answers[(int)call].Current);

    private int ErrorOf(WinCall call) => _answers[(int)call].Error;

    /// <summary>
    /// Every answer back to healthy, but the counters: those advance one second's worth from what
    /// they were (an input's edit included), wrapping as the 64-bit counters do.
    /// </summary>
    private void Restore()
    {
        var times = Read<SystemTimes>(WinCall.SystemTimes);
        var row = Read<MibIfRow2>(WinCall.InterfaceRow);
        ulong job = Read<ulong>(WinCall.JobCpuTime);
        foreach (Answer answer in _answers)
        {
            answer.Error = 0;
            if (!answer.Counter)
            {
                answer.Healthy.CopyTo(answer.Current, 0);
            }
        }

        unchecked
        {
            times = new SystemTimes(times.Idle + IdleUnitsPerSecond, times.Kernel + IdleUnitsPerSecond + KernelBusyUnitsPerSecond, times.User + UserUnitsPerSecond);
            MemoryMarshal.Write(_answers[(int)WinCall.SystemTimes].Current, in times);
            job += JobUnitsPerSecond;
            MemoryMarshal.Write(_answers[(int)WinCall.JobCpuTime].Current, in job);
            MibIfRow2 healthy = Read<MibIfRow2>(WinCall.InterfaceRow);
            healthy.InOctets = row.InOctets + ReceiveBytesPerSecond;
            healthy.OutOctets = row.OutOctets + TransmitBytesPerSecond;
            MemoryMarshal.Write(_answers[(int)WinCall.InterfaceRow].Current, in healthy);
        }
    }

    /// <summary>The two route lookups' answers: an error and an index for each family.</summary>
    /// <param name="IPv4Error">IPv4's Win32 error (0: the index is the route's).</param>
    /// <param name="IPv4Index">IPv4's interface index.</param>
    /// <param name="IPv6Error">IPv6's Win32 error.</param>
    /// <param name="IPv6Index">IPv6's interface index.</param>
    [StructLayout(LayoutKind.Sequential)]
    public readonly record struct Routes(uint IPv4Error, uint IPv4Index, uint IPv6Error, uint IPv6Index);

    /// <summary>What the Network List Manager answers: the HRESULTs of creation and of <c>GetCost</c>, and the flags.</summary>
    /// <param name="CreateResult">Creation's HRESULT.</param>
    /// <param name="GetCostResult"><c>GetCost</c>'s HRESULT.</param>
    /// <param name="Flags">The NLM_CONNECTION_COST flags.</param>
    [StructLayout(LayoutKind.Sequential)]
    public readonly record struct CostAnswer(int CreateResult, int GetCostResult, uint Flags);

    /// <summary>One call's answer: the healthy bytes, this collection's bytes, and the error it fails with (0: it does not).</summary>
    private sealed class Answer(byte[] healthy, bool Counter)
    {
        public byte[] Healthy { get; } = healthy;

        public byte[] Current { get; } = (byte[])healthy.Clone();

        public bool Counter { get; } = Counter;

        public int Error { get; set; }
    }

    private sealed class PowerApi(WinMachine machine) : IWindowsPowerApi
    {
        public bool TryGetSystemPowerStatus(out SystemPowerStatus status, out int error) =>
            machine.TryAnswer(WinCall.PowerStatus, out status, out error);

        public int GetSystemBatteryState(out SystemBatteryState state)
        {
            int status = machine.ErrorOf(WinCall.BatteryState);
            state = status >= 0 ? machine.Read<SystemBatteryState>(WinCall.BatteryState) : default;
            return status;
        }
    }

    private sealed class ProcessorApi(WinMachine machine) : IProcessorPowerApi
    {
        public bool TryGetActiveProcessorCount(out int count, out int error) => machine.TryAnswer(WinCall.ProcessorCount, out count, out error);

        /// <summary>As Windows: <c>STATUS_BUFFER_TOO_SMALL</c> when the buffer holds fewer entries than the processors counted, else one entry for each (at most the fake's) and the rest left alone.</summary>
        public int GetProcessorInformation(Span<ProcessorPowerInformation> buffer)
        {
            int status = machine.ErrorOf(WinCall.ProcessorInformation);
            if (status != 0)
            {
                return status;
            }

            int count = machine.Read<int>(WinCall.ProcessorCount);
            if (count > buffer.Length)
            {
                return StatusBufferTooSmall;
            }

            ReadOnlySpan<ProcessorPowerInformation> entries = MemoryMarshal.Cast<byte, ProcessorPowerInformation>(machine._answers[(int)WinCall.ProcessorInformation].Current);
            entries[..Math.Clamp(count, 0, entries.Length)].CopyTo(buffer);
            return 0;
        }
    }

    private sealed class ComputeApi(WinMachine machine) : IWindowsComputeApi
    {
        public bool TryGetSystemTimes(out SystemTimes times, out int error) => machine.TryAnswer(WinCall.SystemTimes, out times, out error);

        public bool TryGetActiveProcessorCount(out int count, out int error) => machine.TryAnswer(WinCall.ProcessorCount, out count, out error);

        public bool TryGetPhysicalMemory(out PhysicalMemory memory, out int error) => machine.TryAnswer(WinCall.PhysicalMemory, out memory, out error);

        public bool TryGetJobCpuTime(out ulong cpuTime, out int error) => machine.TryAnswer(WinCall.JobCpuTime, out cpuTime, out error);
    }

    private sealed class JobApi(WinMachine machine) : IWindowsJobApi
    {
        public string? MemoryLimitsUnreadable => null;

        public bool TryIsProcessInJob(out bool inJob, out int error)
        {
            bool ok = machine.TryAnswer(WinCall.InJob, out byte value, out error);
            inJob = value != 0;
            return ok;
        }

        public bool TryGetActiveProcessorCount(out int count, out int error) => machine.TryAnswer(WinCall.ProcessorCount, out count, out error);

        public bool TryQueryCpuRateControl(out JobCpuRateControl rate, out int error) => machine.TryAnswer(WinCall.CpuRateControl, out rate, out error);

        public bool TryQueryMemoryLimits(out JobMemoryLimits limits, out int error) => machine.TryAnswer(WinCall.MemoryLimits, out limits, out error);

        public bool TryQueryJobMemoryUsage(out ulong committedBytes, out int error) => machine.TryAnswer(WinCall.JobCommit, out committedBytes, out error);

        public bool TryGetProcessCommit(out ulong committedBytes, out int error) => machine.TryAnswer(WinCall.ProcessCommit, out committedBytes, out error);
    }

    private sealed class NetworkApi(WinMachine machine) : IWindowsNetworkApi
    {
        public uint GetBestInterface(AddressFamily family, out uint interfaceIndex)
        {
            int error = machine.ErrorOf(WinCall.BestInterface);
            Routes routes = machine.Read<Routes>(WinCall.BestInterface);
            (uint routeError, interfaceIndex) = family == AddressFamily.InterNetworkV6 ? (routes.IPv6Error, routes.IPv6Index) : (routes.IPv4Error, routes.IPv4Index);
            return error != 0 ? unchecked((uint)error) : routeError;
        }

        /// <summary>Answers the row, whatever index was asked (an input can edit the row's own index).</summary>
        public uint GetIfEntry(ref MibIfRow2 row)
        {
            int error = machine.ErrorOf(WinCall.InterfaceRow);
            if (error != 0)
            {
                return unchecked((uint)error);
            }

            row = machine.Read<MibIfRow2>(WinCall.InterfaceRow);
            return 0;
        }
    }

    private sealed class CostApi(WinMachine machine) : INetworkCostApi
    {
        public bool IsCreated { get; private set; }

        public int Create()
        {
            int result = machine.ErrorOf(WinCall.ConnectionCost) is var error and not 0 ? error : machine.Read<CostAnswer>(WinCall.ConnectionCost).CreateResult;
            IsCreated = result >= 0;
            return result;
        }

        public int GetCost(out uint cost)
        {
            CostAnswer answer = machine.Read<CostAnswer>(WinCall.ConnectionCost);
            cost = answer.Flags;
            return answer.GetCostResult;
        }

        public void Release() => IsCreated = false;

        public void Dispose() => IsCreated = false;
    }

    private bool TryAnswer<T>(WinCall call, out T value, out int error)
        where T : unmanaged
    {
        error = ErrorOf(call);
        value = error == 0 ? Read<T>(call) : default;
        return error == 0;
    }
}
