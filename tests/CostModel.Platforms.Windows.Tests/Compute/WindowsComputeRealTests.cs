using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Compute;
using CostModel.Platforms.Windows.Container;
using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Windows.Tests.Compute;

/// <summary>
/// The real Win32 path of the compute probe: on Windows, and under Wine where the Linux root is
/// Z:\, cross-checked against /proc/meminfo and /proc/stat read through it.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsComputeRealTests
{
    private const int PageBytes = 4096;
    private readonly RecordingProbeFailureReporter _failures = new();

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    /// <summary>Spins the calling thread for <paramref name="duration"/>, measured by Stopwatch: the workload itself, not a wait.</summary>
    private static long Spin(TimeSpan duration)
    {
        long iterations = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            iterations++;
        }

        return iterations;
    }

    private static (ContainerFactors Container, ComputeFactors Compute) Collect(WindowsContainerProbe container, WindowsComputeProbe compute)
    {
        var snapshot = new SnapshotBuilder(TimeProvider.System);
        container.Collect(snapshot);
        compute.Collect(snapshot);
        return (snapshot.Container, snapshot.Compute);
    }

    [Fact]
    public void On_Windows_the_probe_reads_cores_memory_and_utilisation_over_a_spin()
    {
        Win32.Require();
        var container = new WindowsContainerProbe(_failures);
        var compute = new WindowsComputeProbe(_failures);

        ComputeFactors first = Collect(container, compute).Compute;
        Spin(TimeSpan.FromMilliseconds(200));
        ComputeFactors second = Collect(container, compute).Compute;

        Log($"cores {second.EffectiveCores}; utilisation {second.CpuUtilization}; total {second.MemoryTotalBytes}; available {second.MemoryAvailableBytes}; used {second.MemoryUsedBytes}");
        Assert.Equal("first sample; utilisation needs two", first.CpuUtilization.Reason);
        Assert.True(second.EffectiveCores.Value >= 1);
        Assert.Equal(SignalQuality.Estimated, second.CpuUtilization.Quality);
        Assert.InRange(second.CpuUtilization.Value, 0.0, 1.0);
        Assert.True(second.MemoryTotalBytes.Value > 0);
        Assert.InRange(second.MemoryAvailableBytes.Value, 0, second.MemoryTotalBytes.Value);
        Assert.Equal(second.MemoryTotalBytes.Value - second.MemoryAvailableBytes.Value, second.MemoryUsedBytes.Value);
        Assert.Equal(SignalQuality.NotSupported, second.LoadPerCore.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Under_Wine_physical_memory_is_one_page_below_proc_meminfo_MemTotal_in_whole_pages()
    {
        Win32.RequireWine();
        var api = new Win32ComputeApi();

        long memTotal = MemInfoKilobytes("MemTotal") * 1024;
        Assert.True(api.TryGetPhysicalMemory(out PhysicalMemory memory, out int error), $"GlobalMemoryStatusEx failed: {error}");

        Log($"GlobalMemoryStatusEx ullTotalPhys {memory.TotalBytes}, ullAvailPhys {memory.AvailableBytes}; /proc/meminfo MemTotal {memTotal} bytes, MemAvailable {MemInfoKilobytes("MemAvailable") * 1024} bytes");

        // Wine 8 reports whole pages of MemTotal less one (25276157952 bytes of MemTotal read as
        // 25276153856 on this repository's VM): the page count it multiplies is the highest page
        // number, counted from 0. Exact, not a tolerance: a different figure is a different source.
        Assert.Equal(((memTotal / PageBytes) - 1) * PageBytes, (long)memory.TotalBytes);
        Assert.InRange((long)memory.AvailableBytes, 1, (long)memory.TotalBytes);
    }

    [Fact]
    public void Under_Wine_the_effective_cores_are_the_cpu_lines_of_proc_stat()
    {
        Win32.RequireWine();
        var compute = new WindowsComputeProbe(_failures);
        var snapshot = new SnapshotBuilder(TimeProvider.System)
        {
            Container = new ContainerFactors { CpuLimitCores = Reading.Measured(ResourceLimit.Unlimited, TimeProvider.System.GetUtcNow(), "no job") },
        };

        compute.Collect(snapshot);

        int cpuLines = File.ReadLines(@"Z:\proc\stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsAsciiDigit(l[3]));
        Log($"EffectiveCores {snapshot.Compute.EffectiveCores}; /proc/stat cpuN lines {cpuLines}");
        Assert.Equal(cpuLines, snapshot.Compute.EffectiveCores.Value);
        Assert.Equal(SignalQuality.Measured, snapshot.Compute.EffectiveCores.Quality);
    }

    [Fact]
    public void Under_Wine_utilisation_while_one_thread_spins_is_within_20_points_of_proc_stat()
    {
        Win32.RequireWine();
        var container = new WindowsContainerProbe(_failures);
        var compute = new WindowsComputeProbe(_failures);

        (ulong busyBefore, ulong idleBefore) = ProcStat();
        Collect(container, compute);
        long iterations = Spin(TimeSpan.FromMilliseconds(500));
        ComputeFactors after = Collect(container, compute).Compute;
        (ulong busyAfter, ulong idleAfter) = ProcStat();

        double busy = busyAfter - busyBefore;
        double expected = busy / (busy + (idleAfter - idleBefore));
        Log(string.Create(CultureInfo.InvariantCulture, $"probe {after.CpuUtilization}; /proc/stat {expected:F3} over the same interval ({iterations} spins, {after.EffectiveCores.Value} cores)"));
        Assert.Equal(SignalQuality.Estimated, after.CpuUtilization.Quality);
        Assert.InRange(after.CpuUtilization.Value, expected - 0.2, expected + 0.2);

        // One of the machine's cores was busy spinning the whole time: at least its share is busy.
        Assert.True(after.CpuUtilization.Value >= 0.8 / after.EffectiveCores.Value, $"a spinning thread is at least {0.8 / after.EffectiveCores.Value:F2} of the machine");
    }

    [Theory]
    [InlineData(1, "steady: the CPU calls every pass, memory every fifth")]
    [InlineData(30, "every cadence due: job membership and limits, memory and the CPU calls every pass")]
    public void A_pass_of_both_probes_allocates_only_their_two_records(int secondsBetweenPasses, string what)
    {
        Win32.Require();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var container = new WindowsContainerProbe(_failures);
        var compute = new WindowsComputeProbe(_failures);
        var snapshot = new SnapshotBuilder(time);
        container.Collect(snapshot);
        compute.Collect(snapshot);

        const int Passes = 1000;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < Passes; i++)
        {
            time.Advance(TimeSpan.FromSeconds(secondsBetweenPasses));
            container.Collect(snapshot);
            compute.Collect(snapshot);
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
        long bytesPerPass = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / Passes;
        Log(string.Create(CultureInfo.InvariantCulture, $"{what}: {elapsed.TotalMicroseconds / Passes:F1} us and {bytesPerPass} bytes a pass of both probes{(Win32.IsWine ? " (under Wine)" : "")}"));

        // The two factor records (ContainerFactors and ComputeFactors) and nothing else: no buffer, string or boxed value per pass.
        Assert.InRange(bytesPerPass, 1, 1024);
        // The OS counters tick every 10 to 16 ms, so back-to-back passes may see no time elapse.
        Reading<double> utilization = snapshot.Compute.CpuUtilization;
        Assert.True(utilization.HasValue || utilization.Reason == "no time elapsed between samples", utilization.Reason);
        Assert.Empty(_failures.Reports);
    }

    /// <summary>The aggregate cpu line of /proc/stat: busy = user nice system irq softirq steal; idle = idle iowait (guest is inside user).</summary>
    private static (ulong Busy, ulong Idle) ProcStat()
    {
        string line = File.ReadLines(@"Z:\proc\stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        ulong[] v = [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(f => ulong.Parse(f, CultureInfo.InvariantCulture))];
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7], v[3] + v[4]);
    }

    private static long MemInfoKilobytes(string key)
    {
        string line = File.ReadLines(@"Z:\proc\meminfo").First(l => l.StartsWith(key + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
