using CostModel.Platforms.Windows.Compute;

namespace CostModel.Platforms.Windows.Tests.Compute;

/// <summary>Raw Win32 answers for the compute probe's logic tests; a non-zero error makes that call fail.</summary>
internal sealed class FakeComputeApi : IWindowsComputeApi
{
    public SystemTimes Times { get; set; }

    public int TimesError { get; set; }

    public int Processors { get; set; } = 8;

    public int ProcessorsError { get; set; }

    public PhysicalMemory Memory { get; set; } = new(16UL << 30, 8UL << 30);

    public int MemoryError { get; set; }

    public ulong JobCpuTime { get; set; }

    public int JobCpuTimeError { get; set; }

    public int MemoryCalls { get; private set; }

    /// <summary>Adds busy and idle time (100 ns units) to the counters: busy split evenly between user and kernel.</summary>
    public void Run(ulong busy, ulong idle) =>
        Times = new SystemTimes(Times.Idle + idle, Times.Kernel + idle + busy / 2, Times.User + busy - busy / 2);

    public bool TryGetSystemTimes(out SystemTimes times, out int error) => Answer(Times, TimesError, out times, out error);

    public bool TryGetActiveProcessorCount(out int count, out int error) => Answer(Processors, ProcessorsError, out count, out error);

    public bool TryGetPhysicalMemory(out PhysicalMemory memory, out int error)
    {
        MemoryCalls++;
        return Answer(Memory, MemoryError, out memory, out error);
    }

    public bool TryGetJobCpuTime(out ulong cpuTime, out int error) => Answer(JobCpuTime, JobCpuTimeError, out cpuTime, out error);

    private static bool Answer<T>(T value, int failure, out T result, out int error)
    {
        result = failure == 0 ? value : default!;
        error = failure;
        return failure == 0;
    }
}
