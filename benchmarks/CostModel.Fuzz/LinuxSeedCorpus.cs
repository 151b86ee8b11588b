using System.Runtime.Versioning;

namespace CostModel.Fuzz;

/// <summary>
/// The seeds of the Linux machine target (<see cref="LinuxMachineTarget"/>): small inputs that change
/// the healthy laptop the way real machines differ (charging, a CPU quota, a hot zone, a busy GPU, no
/// battery), so that AFL starts from files every probe parses rather than from bytes that die at the
/// first field. Written by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=linux</c>; each is
/// run on a fresh machine first and must break no invariant.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class LinuxSeedCorpus
{
    /// <summary>The seeds, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> Build() =>
    [
        ("healthy", Change("proc/loadavg", "0.44 0.56 0.29 1/88 5284\n")),
        ("busy-cpu", Change("proc/stat", "cpu  9000 0 4500 10100 100 0 50 0 0 0\ncpu0 4500 0 2250 5050 50 0 20 0 0 0\ncpu1 4500 0 2250 5050 50 0 30 0 0 0\nintr 0\nctxt 99345\n")),
        ("charging", [.. Change("sys/class/power_supply/AC/online", "1\n"), .. Change("sys/class/power_supply/BAT0/status", "Charging\n")]),
        ("cpu-quota", [.. Change($"{LinuxMachineTree.Group}/cpu.max", "150000 100000\n"), .. Change($"{LinuxMachineTree.Group}/cpu.stat", "usage_usec 9000000\nuser_usec 4500000\nsystem_usec 4500000\nnr_periods 20\nnr_throttled 9\nthrottled_usec 900000\nnr_bursts 0\nburst_usec 0\n")]),
        ("hot-zone", Change("sys/class/thermal/thermal_zone0/temp", "98000\n")),
        ("gpu-busy", [.. Change("sys/class/drm/card0/device/gpu_busy_percent", "99\n"), .. Change("sys/class/drm/card0/device/mem_info_vram_used", "16106127360\n")]),
        ("memory-pressure", [.. Change("proc/pressure/memory", "some avg10=42.00 avg60=30.00 avg300=10.00 total=99999\nfull avg10=12.00 avg60=8.00 avg300=2.00 total=5555\n"), .. Change($"{LinuxMachineTree.Group}/memory.current", "1060000000\n")]),
        ("no-battery", LinuxMachineTree.Deletion(LinuxMachineTree.IndexOf("sys/class/power_supply/BAT0/type"))),
    ];

    /// <summary>Writes the seeds into <paramref name="directory"/>, each run on a fresh machine first.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvariantViolationException">A seed broke an invariant.</exception>
    public static IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in Build())
        {
            using (var target = new LinuxMachineTarget())
            {
                target.Run(input);
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        return written;
    }

    private static byte[] Change(string path, string content) => LinuxMachineTree.Segment(LinuxMachineTree.IndexOf(path), content);
}
