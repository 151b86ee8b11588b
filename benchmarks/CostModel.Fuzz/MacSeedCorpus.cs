using System.Buffers.Binary;
using System.Text;
using CostModel.Platforms.MacOS.Compute;
using CostModel.Platforms.MacOS.Gpu;
using CostModel.Platforms.MacOS.Power;
using CostModel.Platforms.MacOS.Thermal;
using Source = CostModel.Fuzz.MacMachine.MacSource;

namespace CostModel.Fuzz;

/// <summary>
/// The seeds of the macOS probes' target (<see cref="MacMachineTarget"/>): small edit programs that
/// change the healthy MacBook the way real Macs differ or break (on AC, charging, a battery gauge
/// read unsigned, no battery, a thermal state, a GPU over 100 %, a VPN gone, a truncated interface
/// list, counters reset or gone backwards, memory pressure, an older kernel's VM statistics), so
/// that AFL starts from programs every decoder takes rather than from bytes that pick nothing.
/// Written by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=mac</c>; each is run on a
/// fresh Mac first and must break no invariant.
/// </summary>
internal static class MacSeedCorpus
{
    // Value kinds of a dictionary edit (MacMachine.Value).
    private const int Remove = 0;
    private const int Integer = 1;
    private const int SpecialDouble = 3;
    private const int Boolean = 5;
    private const int Text = 6;

    /// <summary>SpecialDoubles[0] in <see cref="MacMachine"/>: NaN.</summary>
    private const byte NaNIndex = 0;

    /// <summary>The seeds, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> Build() =>
    [
        // Removes a key no reader reads: the healthy Mac as it is.
        ("healthy", Dictionary(Source.Store, MacMachine.NewKey, Remove)),
        ("on-ac-charging", [
            .. Call(0, 2, Encoding.UTF8.GetBytes(MacPowerReader.AcPower)),
            .. Dictionary(Source.PowerSource, MacPowerReader.StateKey, Text, Encoding.UTF8.GetBytes(MacPowerReader.AcPower)),
            .. Dictionary(Source.PowerSource, MacPowerReader.IsChargingKey, Boolean, 1),
            .. Dictionary(Source.SmartBattery, MacPowerReader.AmperageKey, Integer, Int64(2_486))]),
        ("on-ac-held-below-full", [
            .. Call(0, 2, Encoding.UTF8.GetBytes(MacPowerReader.AcPower)),
            .. Dictionary(Source.PowerSource, MacPowerReader.StateKey, Text, Encoding.UTF8.GetBytes(MacPowerReader.AcPower)),
            .. Dictionary(Source.SmartBattery, MacPowerReader.AmperageKey, Integer, Int64(0))]),
        // OS X 10.9's unsigned 16-bit current (60 000 mA and more), a voltage of 0, a charge over full.
        ("battery-absurd", [
            .. Dictionary(Source.SmartBattery, MacPowerReader.AmperageKey, Integer, Int64(64_000)),
            .. Dictionary(Source.SmartBattery, MacPowerReader.VoltageKey, Integer, Int64(0)),
            .. Dictionary(Source.SmartBattery, MacPowerReader.RawCurrentCapacityKey, Integer, Int64(20_000))]),
        ("battery-voltage-nan", Dictionary(Source.SmartBattery, MacPowerReader.VoltageKey, SpecialDouble, NaNIndex)),
        ("no-battery", [.. MacMachine.Segment(Source.Lists, 0, 0), .. MacMachine.Segment(Source.Lists, 1, 0)]),
        ("power-sources-fail", Call(0, 0)),
        ("thermal-serious-intel-throttled", [
            .. Call(2, 4, 2),
            .. Call(3, 2),
            .. Dictionary(Source.CpuPowerStatus, MacThermalReader.SpeedLimitKey, Integer, Int64(61))]),
        ("gpu-over-100-percent", Dictionary(Source.Accelerator, AcceleratorKeys.PerformanceStatistics + "/" + AcceleratorKeys.DeviceUtilization, Integer, Int64(250))),
        ("gpus-more-than-read", [.. MacMachine.Segment(Source.Lists, 2, 1, 20)]),
        ("vpn-gone", Call(6, 0, 0)),
        ("ipv6-primary", Call(5, 3)),
        ("path-expensive", Call(7, 1, 1, 1)),
        // Cut inside the primary interface's message (en0's message and its address take 196 bytes).
        ("interface-list-truncated", MacMachine.Segment(Source.InterfaceList, 250 / MacMachine.OffsetStep, 1)),
        ("interface-list-zero-length", MacMachine.Segment(Source.InterfaceList, 0, 0, 0, 0)),
        ("byte-counters-reset", MacMachine.Segment(Source.ByteCounters, 0, 0, Int64(0))),
        ("cpu-ticks-backwards", MacMachine.Segment(Source.CpuTicks, 0, 0, 0, 0, 0, 0)),
        ("cpu-ticks-fewer-cpus", MacMachine.Segment(Source.CpuTicks, 0, 1, new byte[4 * 16])),
        ("memory-pressure-critical", MacMachine.Segment(Source.Sysctls, 4, 0, Int64(MacMemory.PressureLevelCritical))),
        ("vm-statistics-before-rev1", MacMachine.Segment(Source.VmStatistics, 0, 1, 30)),
        ("load-average-nan", MacMachine.Segment(Source.Sysctls, 6, 4, NaNIndex)),
    ];

    /// <summary>Writes the seeds into <paramref name="directory"/>, each run on a fresh Mac first.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvariantViolationException">A seed broke an invariant.</exception>
    public static IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in Build())
        {
            using (var target = new MacMachineTarget())
            {
                target.Run(input);
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        return written;
    }

    private static byte[] Dictionary(Source source, string key, int kind, params byte[] payload) =>
        MacMachine.Segment(source, MacMachine.KeyIndex(source, key), kind, payload);

    private static byte[] Call(int call, int kind, params byte[] payload) => MacMachine.Segment(Source.Calls, call, kind, payload);

    private static byte[] Int64(long value)
    {
        byte[] bytes = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }
}
