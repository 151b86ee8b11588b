using System.Buffers.Binary;
using CostModel.Platforms.Windows.Container;
using Call = CostModel.Fuzz.WinMachine.WinCall;

namespace CostModel.Fuzz;

/// <summary>
/// The seeds of the Windows probes' target (<see cref="WinMachineTarget"/>): small edit programs that
/// change the healthy laptop the way real Windows machines differ or break (on AC, no battery,
/// every field unknown, a call failing, counters wrapping, a job with a CPU cap or a memory limit, a
/// throttled processor, no route, a metered connection), so that AFL starts from programs every
/// decoder takes. Written by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=win</c>; each
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

    /// <summary>The seeds, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> Build() =>
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
