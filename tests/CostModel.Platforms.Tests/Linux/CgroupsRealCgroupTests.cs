using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.Cgroups;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// Creates a real child cgroup with a quota of half a core, starts the CgroupChild program in it
/// (which runs the real container and compute probes while spinning two threads) and checks what
/// it read. Needs root and a writable cpu controller (v1, or v2 with cpu delegable); skips otherwise.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CgroupsRealCgroupTests
{
    private const string HalfCore = "50000";
    private const string Period = "100000";

    // The kernel's maximum group weights (MAX_SHARES = 2^18 in v1, CGROUP_WEIGHT_MAX in v2).
    private const string MaxSharesV1 = "262144";
    private const string MaxWeightV2 = "10000";
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_child_in_a_half_core_cgroup_reads_its_quota_as_effective_cores_and_is_throttled()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/mountinfo"))
        {
            Assert.Skip("needs Linux cgroups");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Skip("needs root to create a cgroup and move a process into it");
        }

        string childDll = Path.Combine(AppContext.BaseDirectory, "cgroup-child", "CostModel.Platforms.CgroupChild.dll");
        Assert.True(File.Exists(childDll), $"{childDll} is missing: the test project copies the CgroupChild output there when it builds");

        using var reader = new CgroupReader(Options.Create(new LinuxProbeOptions()));
        CgroupDiscoveryResult discovery = reader.Discovery;
        CgroupHierarchy? cpu = discovery.Cpu;
        if (cpu is null)
        {
            Assert.Skip($"no cpu controller for this process (layout {discovery.Layout})");
            return;
        }

        string name = "costmodel-test-" + Guid.NewGuid().ToString("N")[..12];
        var created = new List<string>();
        try
        {
            string cpuDir = Path.Combine(cpu.OwnDir, name);
            string? acctDir = null;
            if (!TryCreateLimitedGroup(cpu, cpuDir, out string? why))
            {
                Assert.Skip($"the cpu controller is not writable here: {why}");
            }

            created.Add(cpuDir);

            // With cpuacct mounted on its own, the group's CPU time is counted there: join the same path.
            if (!cpu.IsV2 && discovery.CpuAcct is { } acct && acct.MountDir != cpu.MountDir)
            {
                acctDir = Path.Combine(acct.OwnDir, name);
                Directory.CreateDirectory(acctDir);
                created.Add(acctDir);
            }

            string join = $"echo $$ > '{cpuDir}/cgroup.procs'" + (acctDir is null ? string.Empty : $" && echo $$ > '{acctDir}/cgroup.procs'");
            string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var start = new ProcessStartInfo("/bin/sh")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"{join} && exec '{dotnet}' '{childDll}' --seconds 1.5 --threads 2");

            using var child = Process.Start(start)!;
            Task<string> stdout = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            Task<string> stderr = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
            {
                timeout.CancelAfter(ChildTimeout);
                try
                {
                    await child.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    child.Kill(entireProcessTree: true);
                    await child.WaitForExitAsync(TestContext.Current.CancellationToken);
                    Assert.Fail($"the child did not finish within {ChildTimeout.TotalSeconds} s");
                }
            }

            string output = await stdout;
            TestContext.Current.TestOutputHelper?.WriteLine(output);
            Assert.True(child.ExitCode == 0, $"child exited with {child.ExitCode}\n{output}\n{await stderr}");
            Dictionary<string, string> read = Parse(output);

            Assert.DoesNotContain("failure", read.Keys);
            Assert.Equal("0.5", read["cpuLimitCores"]);
            Assert.EndsWith(name + (cpu.IsV2 ? "/cpu.max" : "/cpu.cfs_quota_us"), read["cpuLimitCores.note"], StringComparison.Ordinal);
            Assert.Equal("0.5", read["effectiveCores"]);
            Assert.Equal("Measured", read["effectiveCores.quality"]);
            bool throttled = (read["throttledPeriods"] != "none" && long.Parse(read["throttledPeriods"], CultureInfo.InvariantCulture) > 0)
                || (read["throttledShare"] != "none" && double.Parse(read["throttledShare"], CultureInfo.InvariantCulture) > 0);
            Assert.True(throttled, output);

            // Two spinning threads against half a core: the group uses all of its quota, measured by its own counter.
            Assert.NotEqual("none", read["cpuUtilization"]);
            Assert.True(double.Parse(read["cpuUtilization"], CultureInfo.InvariantCulture) > 0.7, output);
            if (cpu.IsV2 || discovery.CpuAcct is not null)
            {
                Assert.EndsWith(name + (cpu.IsV2 ? "/cpu.stat" : "/cpuacct.usage"), read["cpuUtilization.note"], StringComparison.Ordinal);
            }
        }
        finally
        {
            // The child has exited (or was killed), so the groups are empty and rmdir succeeds.
            foreach (string dir in Enumerable.Reverse(created))
            {
                Directory.Delete(dir, recursive: false);
            }
        }

        foreach (string dir in created)
        {
            Assert.False(Directory.Exists(dir), $"{dir} was not removed");
        }
    }

    private static bool TryCreateLimitedGroup(CgroupHierarchy cpu, string dir, out string? why)
    {
        why = null;
        try
        {
            if (cpu.IsV2)
            {
                // v2: the parent must delegate the cpu controller to its children.
                File.AppendAllText(Path.Combine(cpu.OwnDir, "cgroup.subtree_control"), "+cpu");
            }

            Directory.CreateDirectory(dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            why = $"{dir}: {ex.Message}";
            return false;
        }

        try
        {
            // The largest weight as well, so that on a busy machine the group still gets its whole
            // quota and the quota (not other tasks) is what holds it back.
            if (cpu.IsV2)
            {
                File.WriteAllText(Path.Combine(dir, "cpu.max"), $"{HalfCore} {Period}");
                File.WriteAllText(Path.Combine(dir, "cpu.weight"), MaxWeightV2);
            }
            else
            {
                File.WriteAllText(Path.Combine(dir, "cpu.cfs_period_us"), Period);
                File.WriteAllText(Path.Combine(dir, "cpu.cfs_quota_us"), HalfCore);
                File.WriteAllText(Path.Combine(dir, "cpu.shares"), MaxSharesV1);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            why = $"{dir}: cannot set a quota: {ex.Message}";
            Directory.Delete(dir, recursive: false);
            return false;
        }
    }

    private static Dictionary<string, string> Parse(string output)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[line[..equals]] = line[(equals + 1)..];
            }
        }

        return values;
    }
}
