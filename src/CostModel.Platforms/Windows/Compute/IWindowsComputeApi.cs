namespace CostModel.Platforms.Windows.Compute;

/// <summary>
/// The raw Win32 values the compute probe reads, behind a seam so that its arithmetic is tested on
/// every OS with faked values (<see cref="Win32ComputeApi"/> is the real one). Each method returns
/// false with the call's Win32 error code when the call fails.
/// </summary>
internal interface IWindowsComputeApi
{
    /// <summary><c>GetSystemTimes</c>: idle, kernel and user time summed over all processors, in 100 ns units (kernel time includes idle time).</summary>
    bool TryGetSystemTimes(out SystemTimes times, out int error);

    /// <summary><c>GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)</c>: the logical processors of every processor group.</summary>
    bool TryGetActiveProcessorCount(out int count, out int error);

    /// <summary><c>GlobalMemoryStatusEx</c>: physical memory, total and available, in bytes.</summary>
    bool TryGetPhysicalMemory(out PhysicalMemory memory, out int error);

    /// <summary>
    /// <c>QueryInformationJobObject(NULL, JobObjectBasicAccountingInformation)</c>: user plus kernel
    /// time of every process that ran in this process's (innermost) job, in 100 ns units.
    /// </summary>
    bool TryGetJobCpuTime(out ulong cpuTime, out int error);
}

/// <summary>What <c>GetSystemTimes</c> returns: 100 ns units summed over all processors since boot.</summary>
/// <param name="Idle">Time every processor spent idle.</param>
/// <param name="Kernel">Time in kernel mode, idle time included.</param>
/// <param name="User">Time in user mode.</param>
internal readonly record struct SystemTimes(ulong Idle, ulong Kernel, ulong User);

/// <summary>The two physical memory figures of <c>MEMORYSTATUSEX</c>.</summary>
/// <param name="TotalBytes"><c>ullTotalPhys</c>: physical memory the OS can use.</param>
/// <param name="AvailableBytes"><c>ullAvailPhys</c>: physical memory that can be used without writing anything to disk (free, zeroed and standby pages).</param>
internal readonly record struct PhysicalMemory(ulong TotalBytes, ulong AvailableBytes);
