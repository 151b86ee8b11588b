using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Container;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Container;

/// <summary>The real job-object path: this process's own job (none, under Wine), and a job the test makes and puts a child in.</summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsContainerRealTests
{
    private const long GiB = 1L << 30;
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    private ContainerFactors Collect(WindowsContainerProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Container;
    }

    [Fact]
    public void Under_Wine_the_process_is_in_no_job_so_nothing_limits_or_throttles_it()
    {
        Win32.RequireWine();

        ContainerFactors container = Collect(new WindowsContainerProbe(_failures));

        Log($"cpu {container.CpuLimitCores}; memory {container.MemoryLimitBytes}; working set {container.MemoryWorkingSetBytes}; throttled {container.ThrottledShare}");
        Assert.Equal(ResourceLimit.Unlimited, container.CpuLimitCores.Value);
        Assert.Equal(ResourceLimit.Unlimited, container.MemoryLimitBytes.Value);
        Assert.StartsWith("IsProcessInJob: the process is in no job object", container.MemoryLimitBytes.Source, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, container.MemoryWorkingSetBytes.Quality);
        Assert.Equal(0.0, container.ThrottledShare.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void On_Windows_this_process_job_reads_without_failures()
    {
        Win32.Require();

        ContainerFactors container = Collect(new WindowsContainerProbe(_failures));

        Log($"cpu {container.CpuLimitCores}; memory {container.MemoryLimitBytes}; working set {container.MemoryWorkingSetBytes}; throttled {container.ThrottledShare}");
        Assert.True(container.CpuLimitCores.HasValue, container.CpuLimitCores.Reason);
        Assert.True(container.MemoryLimitBytes.HasValue, container.MemoryLimitBytes.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_job_made_here_with_a_memory_limit_and_a_25_percent_hard_cap_reads_back_through_the_probe()
    {
        Win32.Require();
        nint job = JobObjectNative.CreateJobObjectW(0, 0);
        Assert.True(job != 0, $"CreateJobObject failed: {Marshal.GetLastPInvokeError()}");
        Process? child = null;
        try
        {
            var limits = new Win32JobApi.ExtendedLimitInformation
            {
                LimitFlags = JobMemoryLimits.JobMemory | JobObjectNative.KillOnJobClose,
                JobMemoryLimit = (nuint)(2 * GiB),
            };
            bool memorySet = JobObjectNative.SetInformationJobObject(job, JobObjectNative.JobObjectExtendedLimitInformation, ref limits, (uint)Marshal.SizeOf<Win32JobApi.ExtendedLimitInformation>());
            int memoryError = memorySet ? 0 : Marshal.GetLastPInvokeError();
            var rate = new Win32JobApi.CpuRateControlInformation { ControlFlags = JobCpuRateControl.Enable | JobCpuRateControl.HardCap, Union = 2500 };
            bool rateSet = JobObjectNative.SetInformationJobObject(job, JobObjectNative.JobObjectCpuRateControlInformation, ref rate, (uint)Marshal.SizeOf<Win32JobApi.CpuRateControlInformation>());
            int rateError = rateSet ? 0 : Marshal.GetLastPInvokeError();
            Log($"SetInformationJobObject: extended limits {(memorySet ? "ok" : $"error {memoryError}")}, CPU rate {(rateSet ? "ok" : $"error {rateError}")}");

            // A child that waits on its stdin until the job is closed (KILL_ON_JOB_CLOSE) or it is killed.
            child = Process.Start(new ProcessStartInfo(Path.Combine(Environment.SystemDirectory, "cmd.exe"), "/c pause")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            Assert.True(JobObjectNative.AssignProcessToJobObject(job, child.Handle), $"AssignProcessToJobObject failed: {Marshal.GetLastPInvokeError()}");

            var api = new Win32JobApi(child.Handle, job);
            Assert.True(api.TryGetActiveProcessorCount(out int processors, out _));
            ContainerFactors container = Collect(new WindowsContainerProbe(api, _failures));
            Log($"cpu {container.CpuLimitCores} ({container.CpuLimitCores.Source ?? container.CpuLimitCores.Reason}); memory {container.MemoryLimitBytes} ({container.MemoryLimitBytes.Source ?? container.MemoryLimitBytes.Reason}); working set {container.MemoryWorkingSetBytes} ({container.MemoryWorkingSetBytes.Source ?? container.MemoryWorkingSetBytes.Reason}); throttled {container.ThrottledShare}; failures: {string.Join(" | ", _failures.Reports.Select(r => r.Detail))}");

            Assert.True(memorySet, $"SetInformationJobObject(extended limits) failed: {memoryError}");
            if (Win32.IsWine)
            {
                // Wine 8 refuses CPU rate control (set and query: ERROR_INVALID_PARAMETER) and answers
                // the extended limits with zeros: both Unknown with the reason, never "unlimited".
                Assert.Equal(87, rateError);
                Assert.Equal(SignalQuality.Unknown, container.CpuLimitCores.Quality);
                Assert.StartsWith("QueryInformationJobObject(JobObjectCpuRateControlInformation) failed: Win32 error 87", container.CpuLimitCores.Reason, StringComparison.Ordinal);
                Assert.Equal(SignalQuality.Unknown, container.MemoryLimitBytes.Quality);
                Assert.Equal(Win32JobApi.WineLimitsStub, container.MemoryLimitBytes.Reason);
                Assert.True(api.TryQueryMemoryLimits(out JobMemoryLimits raw, out _));
                Assert.Equal(default, raw);
                Assert.Equal(SignalQuality.Unknown, container.MemoryWorkingSetBytes.Quality);
                Assert.Equal(SignalQuality.Unknown, container.ThrottledShare.Quality);
                Assert.StartsWith("throttling cannot be attributed", container.ThrottledShare.Reason, StringComparison.Ordinal);
                return;
            }

            Assert.True(rateSet, $"SetInformationJobObject(CPU rate) failed: {rateError}");
            Assert.Equal(ResourceLimit.Of(2 * GiB), container.MemoryLimitBytes.Value);
            Assert.Equal(ResourceLimit.Of(processors * 0.25), container.CpuLimitCores.Value);
            Assert.Equal(SignalQuality.NotSupported, container.ThrottledShare.Quality);
            Assert.True(container.MemoryWorkingSetBytes.HasValue, container.MemoryWorkingSetBytes.Reason);
            Assert.Empty(_failures.Reports);
        }
        finally
        {
            if (child is not null)
            {
                if (!child.HasExited)
                {
                    child.Kill();
                }

                child.Dispose();
            }

            JobObjectNative.CloseHandle(job);
        }
    }
}
