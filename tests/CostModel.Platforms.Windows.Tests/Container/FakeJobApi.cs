using CostModel.Platforms.Windows.Container;

namespace CostModel.Platforms.Windows.Tests.Container;

/// <summary>Raw job-object answers for the container probe's logic tests; a non-zero error makes that call fail.</summary>
internal sealed class FakeJobApi : IWindowsJobApi
{
    public bool InJob { get; set; }

    public int InJobError { get; set; }

    public int Processors { get; set; } = 8;

    public JobCpuRateControl Rate { get; set; }

    public int RateError { get; set; }

    public JobMemoryLimits Limits { get; set; }

    public int LimitsError { get; set; }

    public ulong JobCommit { get; set; }

    public int JobCommitError { get; set; }

    public ulong ProcessCommit { get; set; }

    public int Calls { get; private set; }

    public string? MemoryLimitsUnreadable { get; set; }

    public bool TryIsProcessInJob(out bool inJob, out int error) => Answer(InJob, InJobError, out inJob, out error);

    public bool TryGetActiveProcessorCount(out int count, out int error) => Answer(Processors, 0, out count, out error);

    public bool TryQueryCpuRateControl(out JobCpuRateControl rate, out int error) => Answer(Rate, RateError, out rate, out error);

    public bool TryQueryMemoryLimits(out JobMemoryLimits limits, out int error) => Answer(Limits, LimitsError, out limits, out error);

    public bool TryQueryJobMemoryUsage(out ulong committedBytes, out int error) => Answer(JobCommit, JobCommitError, out committedBytes, out error);

    public bool TryGetProcessCommit(out ulong committedBytes, out int error) => Answer(ProcessCommit, 0, out committedBytes, out error);

    private bool Answer<T>(T value, int failure, out T result, out int error)
    {
        Calls++;
        result = failure == 0 ? value : default!;
        error = failure;
        return failure == 0;
    }
}
