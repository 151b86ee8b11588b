using System.Buffers.Binary;
using CostModel.Platforms.Gpu;
using CostModel.Platforms.Windows.Container;
using CostModel.Platforms.Windows.Gpu;
using Call = CostModel.Fuzz.WinMachine.WinCall;

namespace CostModel.Fuzz;

/// <summary>
/// The seeds of the Windows probes' target (<see cref="WinMachineTarget"/>): small edit programs that
/// change the healthy laptop the way real Windows machines differ or break (on AC, no battery,
/// every field unknown, a call failing, counters wrapping, a job with a CPU cap or a memory limit, a
/// throttled processor, no route, a metered connection; for the GPUs, an NVIDIA GPU busy and held
/// down through NVML, one read only through PDH and DXGI, a software adapter alone, no GPU at all,
/// and the absurd answers of broken drivers), so that AFL starts from programs every decoder takes. Written by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=win</c>; each
/// is run on a fresh laptop first and must break no invariant.
/// </summary>
internal static class WinSeedCorpus
{
    private const int Overlay = 0;
    private const int Fail = 1;
    private const int Zero = 2;

    /// <summary>A status no probe tells apart from another failure: STATUS_ACCESS_DENIED (0xC0000022).</summary>
    private const int StatusAccessDenied = unchecked((int)0xC0000022);

    /// <summary>ERROR_INVALID_PARAMETER (87): GetIfEntry2's answer for an index that names no interface now.</summary>
    private const int ErrorInvalidParameter = 87;

    /// <summary>NLM_CONNECTION_COST_FIXED | NLM_CONNECTION_COST_APPROACHINGDATALIMIT: a metered plan near its cap.</summary>
    private const uint CostFixedApproachingLimit = 0x2 | 0x80000;

    /// <summary>A hard cap of half the machine: CpuRate is in hundredths of a percent (5 000 = 50 %).</summary>
    private const uint HalfTheMachine = 5_000;

    /// <summary>NVML_ERROR_GPU_IS_LOST (15): what every call answers once the GPU fell off the bus.</summary>
    private const int NvmlGpuIsLost = 15;

    /// <summary>NVML_ERROR_DRIVER_NOT_LOADED (9): nvml.dll loads but the kernel driver is not running.</summary>
    private const int NvmlDriverNotLoaded = 9;

    /// <summary>E_FAIL (0x80004005): a failing <c>EnumAdapters1</c> partway through the list.</summary>
    private const int EFail = unchecked((int)0x80004005);

    /// <summary>The seeds, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> Build()
    {
        var laptop = new WinMachine();
        return [.. Laptop, .. Gpus(laptop)];
    }

    /// <summary>The seeds of the laptop's power, processors, memory, job and network.</summary>
    private static IEnumerable<(string Name, byte[] Input)> Laptop =>
    [
        // Zeroes the commit of a process in no job (not read): the healthy laptop as it is.
        ("healthy", WinMachine.Segment(Call.ProcessCommit, Overlay, 0, 0)),
        // ACLineStatus 1; AcOnLine 1, Discharging 0, then Rate 0.
        ("on-ac", [
            .. WinMachine.Segment(Call.PowerStatus, Overlay, 0, 1),
            .. WinMachine.Segment(Call.BatteryState, Overlay, 0, 1, 1, 0, 0),
            .. WinMachine.Segment(Call.BatteryState, Overlay, 16, Int32(0))]),
        // BatteryFlag 128, BatteryPresent 0.
        ("battery-absent", [
            .. WinMachine.Segment(Call.PowerStatus, Overlay, 1, 128),
            .. WinMachine.Segment(Call.BatteryState, Overlay, 1, 0)]),
        ("battery-unknown-flags-255", WinMachine.Segment(Call.PowerStatus, Overlay, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)),
        ("battery-state-fails", WinMachine.Segment(Call.BatteryState, Fail, 0, Int32(StatusAccessDenied))),
        ("power-status-fails", WinMachine.Segment(Call.PowerStatus, Fail, 0)),
        ("system-times-wrap", WinMachine.Segment(Call.SystemTimes, Overlay, 0, [.. UInt64(ulong.MaxValue - 1), .. UInt64(ulong.MaxValue - 1), .. UInt64(ulong.MaxValue - 1)])),
        ("octets-wrap", WinMachine.Segment(Call.InterfaceRow, Overlay, MibOctetsOffset / WinMachine.Step(CostModel.Platforms.Windows.Network.MibIfRow2.Size), [.. UInt64(ulong.MaxValue), .. UInt64(ulong.MaxValue)])),
        ("job-cpu-hard-cap", [
            .. WinMachine.Segment(Call.InJob, Overlay, 0, 1),
            .. WinMachine.Segment(Call.CpuRateControl, Overlay, 0, [.. UInt32(JobCpuRateControl.Enable | JobCpuRateControl.HardCap), .. UInt32(HalfTheMachine)])]),
        ("job-memory-limit", [
            .. WinMachine.Segment(Call.InJob, Overlay, 0, 1),
            .. WinMachine.Segment(Call.MemoryLimits, Overlay, 0, [.. UInt32(JobMemoryLimits.JobMemory), .. UInt32(0), .. UInt64(0), .. UInt64(4UL << 30)])]),
        ("processor-throttled", WinMachine.Segment(Call.ProcessorInformation, Overlay, 12 / WinMachine.Step(WinMachine.ProcessorEntries * 24), UInt32(1_500))),
        ("processor-count-fails", WinMachine.Segment(Call.ProcessorCount, Fail, 0)),
        ("memory-zeroed", WinMachine.Segment(Call.PhysicalMemory, Zero, 0)),
        ("no-route", WinMachine.Segment(Call.BestInterface, Overlay, 0, UInt32(1231))),
        ("interface-gone", WinMachine.Segment(Call.InterfaceRow, Fail, 0, Int32(ErrorInvalidParameter))),
        ("metered", WinMachine.Segment(Call.ConnectionCost, Overlay, 8 / WinMachine.Step(12), UInt32(CostFixedApproachingLimit))),
    ];

    /// <summary>
    /// The GPU seeds: the four machines the probe tells apart (an NVIDIA GPU read through NVML, one
    /// only through PDH and DXGI, a software adapter alone, no graphics stack at all), then what
    /// broken drivers answer (NVML's absurd values, a lost GPU, a driver not loaded, a lying count;
    /// PDH's implausible and malformed instances, a lying buffer size, a failed collection; DXGI
    /// failing partway through its list).
    /// </summary>
    private static IEnumerable<(string Name, byte[] Input)> Gpus(WinMachine laptop) =>
    [
        // Busy and held down for heat and power: 98 %, 20 of 24 GiB, 83 C, 150 W, software power cap and thermal slowdown.
        ("gpu-nvml-busy-throttled", laptop.Edit(Call.NvmlReadings, (ref WinMachine.NvmlReadingsAnswer a) =>
        {
            a[0].Utilization = 98;
            a[0].MemoryUsed = 20UL << 30;
            a[0].Celsius = 83;
            a[0].Milliwatts = 150_000;
            a[0].Reasons = NvmlConstants.ReasonSwPowerCap | NvmlConstants.ReasonSwThermalSlowdown;
        })),

        // No nvml.dll (a driver without it, or a Windows image without the NVIDIA driver's DLLs): the RTX 4090 through DXGI and PDH.
        ("gpu-pdh-only", NvmlNotLoaded(laptop)),

        // A VM with no GPU: DXGI lists only the Basic Render Driver, PDH only its memory instance, and no NVML.
        ("gpu-software-adapter-only", [
            .. laptop.Edit(Call.GpuAdapters, (ref WinMachine.DxgiAnswer a) =>
            {
                a.Listed = 1;
                a.Adapters[0] = a.Adapters[2];
            }),
            .. laptop.Edit(Call.PdhMemory, (ref WinMachine.PdhArrayAnswer a) =>
            {
                a.Listed = 1;
                a.Items[0] = a.Items[2];
            }),
            .. WinMachine.Segment(Call.PdhEngines, Zero, 0),
            .. NvmlNotLoaded(laptop)]),

        // Server Core: no graphics stack for DXGI, no GPU counters in PDH, no NVML.
        ("gpu-none", [
            .. WinMachine.Segment(Call.GpuAdapters, Fail, 0, Int32(WinMachine.DxgiUnsupported)),
            .. laptop.Edit(Call.PdhOpen, (ref WinMachine.PdhOpenAnswer a) => a = a with { EngineAddStatus = PdhStatus.NoObject, MemoryAddStatus = PdhStatus.NoObject }),
            .. NvmlNotLoaded(laptop)]),

        // Utilisation 150 %, 30 of 24 GiB in use, 300 C, 4.29 MW, every reason bit.
        ("gpu-nvml-absurd", laptop.Edit(Call.NvmlReadings, (ref WinMachine.NvmlReadingsAnswer a) =>
        {
            a[0].Utilization = 150;
            a[0].MemoryUsed = 30UL << 30;
            a[0].Celsius = 300;
            a[0].Milliwatts = uint.MaxValue;
            a[0].Reasons = ulong.MaxValue;
        })),
        ("gpu-nvml-lost", WinMachine.Segment(Call.NvmlReadings, Fail, 0, Int32(NvmlGpuIsLost))),
        ("gpu-nvml-driver-not-loaded", WinMachine.Segment(Call.NvmlDevices, Fail, 0, Int32(NvmlDriverNotLoaded))),

        // nvmlDeviceGetCount_v2 says 5 with two devices behind handles (the other handles NVML_ERROR_INVALID_ARGUMENT), and the MIG mode on.
        ("gpu-nvml-count-lies-mig", laptop.Edit(Call.NvmlDevices, (ref WinMachine.NvmlDevicesAnswer a) =>
        {
            a.LiesAboutCount = 1;
            a.ReportedCount = 5;
            a.Devices[0].MigResult = 0;
            a.Devices[0].MigMode = NvmlConstants.DeviceMigEnable;
        })),

        // An engine at 1e300 %, one NaN, one negative; the Iris Xe's memory in use above its 128 MiB, an invalid item status.
        ("gpu-pdh-absurd", [
            .. laptop.Edit(Call.PdhEngines, (ref WinMachine.PdhArrayAnswer a) =>
            {
                a.Items[0].Value = 1e300;
                a.Items[2].Value = double.NaN;
                a.Items[3].Value = -5;
            }),
            .. laptop.Edit(Call.PdhMemory, (ref WinMachine.PdhArrayAnswer a) =>
            {
                a.Items[1].Value = 1L << 30;
                a.Items[2].Status = PdhStatus.InvalidDataItem;
            })]),

        // An engine instance whose name is not the GPU counters' form (the LUID's 0x gone), names pointing past the buffer.
        ("gpu-pdh-malformed", [
            .. laptop.Edit(Call.PdhEngines, (ref WinMachine.PdhArrayAnswer a) =>
            {
                Span<char> names = a.Names;
                names[a.Items[1].NameStart + "pid_11_luid_".Length] = '_';
            }),
            .. laptop.Edit(Call.PdhMemory, (ref WinMachine.PdhArrayAnswer a) =>
            {
                a.Lies = WinMachine.PdhLieName;
                a.NameOffset = 1L << 40;
            })]),

        // PDH_MORE_DATA asking for 8 bytes, then an item count of 70 000; the next collection fails with PDH_NO_DATA.
        ("gpu-pdh-lies", [
            .. laptop.Edit(Call.PdhEngines, (ref WinMachine.PdhArrayAnswer a) =>
            {
                a.Lies = WinMachine.PdhLieSize;
                a.RequiredSize = 8;
            }),
            .. laptop.Edit(Call.PdhMemory, (ref WinMachine.PdhArrayAnswer a) =>
            {
                a.Lies = WinMachine.PdhLieCount;
                a.ReportedCount = 70_000;
            })]),
        ("gpu-pdh-collect-fails", WinMachine.Segment(Call.PdhCollect, Fail, 0, UInt32(PdhStatus.NoData))),

        // EnumAdapters1 fails after the first adapter (E_FAIL).
        ("gpu-dxgi-fails-partway", laptop.Edit(Call.GpuAdapters, (ref WinMachine.DxgiAnswer a) =>
        {
            a.Listed = 1;
            a.EndResult = EFail;
        })),
    ];

    /// <summary>nvml.dll does not load (no candidate loads).</summary>
    private static byte[] NvmlNotLoaded(WinMachine laptop) => laptop.Edit(Call.NvmlDevices, (ref WinMachine.NvmlDevicesAnswer a) => a.LoadFailure = 1);

    /// <summary>Where InOctets lies in MIB_IF_ROW2 (netioapi.h): after the strings, the flags and the link speeds.</summary>
    private static int MibOctetsOffset => (int)System.Runtime.InteropServices.Marshal.OffsetOf<CostModel.Platforms.Windows.Network.MibIfRow2>(nameof(CostModel.Platforms.Windows.Network.MibIfRow2.InOctets));

    /// <summary>Writes the seeds into <paramref name="directory"/>, each run on a fresh laptop first.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvariantViolationException">A seed broke an invariant.</exception>
    public static IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in Build())
        {
            using (var target = new WinMachineTarget())
            {
                target.Run(input);
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        return written;
    }

    private static byte[] Int32(int value)
    {
        byte[] bytes = new byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] UInt32(uint value)
    {
        byte[] bytes = new byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] UInt64(ulong value)
    {
        byte[] bytes = new byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }
}
