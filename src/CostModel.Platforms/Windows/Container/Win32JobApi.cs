using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Windows.Container;

/// <summary>
/// The real <see cref="IWindowsJobApi"/>: kernel32 through source-generated <c>LibraryImport</c>
/// stubs, each call filling one stack struct. By default it asks about this process and its own
/// job: a NULL job handle makes <c>QueryInformationJobObject</c> answer for the innermost job the
/// caller is in, without a handle to it (a process cannot open its job unless it knows its name).
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe partial class Win32JobApi : IWindowsJobApi
{
    /// <summary>GetCurrentProcess()'s pseudo handle: always -1, never closed.</summary>
    internal const nint CurrentProcess = -1;

    private const ushort AllProcessorGroups = 0xFFFF;
    private const int JobObjectExtendedLimitInformation = 9;
    private const int JobObjectCpuRateControlInformation = 15;
    private const int JobObjectMemoryUsageInformation = 28;

    /// <summary>Why the extended limits are not believed under Wine.</summary>
    internal const string WineLimitsStub =
        "Wine answers QueryInformationJobObject(JobObjectExtendedLimitInformation) with zeros whatever limits were set (a stub in its ntdll), so the job's memory limit cannot be read";

    private readonly nint _process;
    private readonly nint _job;

    /// <summary>Asks about this process and its innermost job.</summary>
    public Win32JobApi()
        : this(CurrentProcess, 0)
    {
    }

    /// <summary>Asks about another process and an explicit job handle (the tests: a job they created, a child they put in it).</summary>
    /// <param name="process">The process whose membership <see cref="TryIsProcessInJob"/> checks and whose commit <see cref="TryGetProcessCommit"/> reads.</param>
    /// <param name="job">A job handle with JOB_OBJECT_QUERY access, or 0 for the caller's innermost job.</param>
    internal Win32JobApi(nint process, nint job)
    {
        _process = process;
        _job = job;

        // Wine's ntdll exports wine_get_version; Windows' does not.
        MemoryLimitsUnreadable = NativeLibrary.TryLoad("ntdll.dll", out nint ntdll) && NativeLibrary.TryGetExport(ntdll, "wine_get_version", out _)
            ? WineLimitsStub
            : null;
    }

    public string? MemoryLimitsUnreadable { get; }

    public bool TryIsProcessInJob(out bool inJob, out int error)
    {
        int result;
        if (!IsProcessInJob(_process, _job, &result))
        {
            error = Marshal.GetLastPInvokeError();
            inJob = false;
            return false;
        }

        error = 0;
        inJob = result != 0;
        return true;
    }

    public bool TryGetActiveProcessorCount(out int count, out int error)
    {
        uint n = GetActiveProcessorCount(AllProcessorGroups);
        error = n == 0 ? Marshal.GetLastPInvokeError() : 0;
        count = (int)Math.Min(n, int.MaxValue);
        return n != 0;
    }

    public bool TryQueryCpuRateControl(out JobCpuRateControl rate, out int error)
    {
        CpuRateControlInformation info = default;
        if (!Query(JobObjectCpuRateControlInformation, &info, sizeof(CpuRateControlInformation), out error))
        {
            rate = default;
            return false;
        }

        rate = new JobCpuRateControl(info.ControlFlags, info.Union);
        return true;
    }

    public bool TryQueryMemoryLimits(out JobMemoryLimits limits, out int error)
    {
        ExtendedLimitInformation info = default;
        if (!Query(JobObjectExtendedLimitInformation, &info, sizeof(ExtendedLimitInformation), out error))
        {
            limits = default;
            return false;
        }

        limits = new JobMemoryLimits(info.LimitFlags, info.ProcessMemoryLimit, info.JobMemoryLimit, info.PeakJobMemoryUsed);
        return true;
    }

    public bool TryQueryJobMemoryUsage(out ulong committedBytes, out int error)
    {
        MemoryUsageInformation info = default;
        if (!Query(JobObjectMemoryUsageInformation, &info, sizeof(MemoryUsageInformation), out error))
        {
            committedBytes = 0;
            return false;
        }

        committedBytes = info.JobMemory;
        return true;
    }

    public bool TryGetProcessCommit(out ulong committedBytes, out int error)
    {
        ProcessMemoryCountersEx counters = default;
        if (!K32GetProcessMemoryInfo(_process, &counters, (uint)sizeof(ProcessMemoryCountersEx)))
        {
            error = Marshal.GetLastPInvokeError();
            committedBytes = 0;
            return false;
        }

        error = 0;
        committedBytes = counters.PrivateUsage;
        return true;
    }

    private bool Query(int infoClass, void* buffer, int size, out int error)
    {
        if (!QueryInformationJobObject(_job, infoClass, buffer, (uint)size, null))
        {
            error = Marshal.GetLastPInvokeError();
            return false;
        }

        error = 0;
        return true;
    }

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool IsProcessInJob(nint process, nint job, int* result);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial uint GetActiveProcessorCount(ushort groupNumber);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool QueryInformationJobObject(nint job, int infoClass, void* info, uint length, uint* returnLength);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool K32GetProcessMemoryInfo(nint process, ProcessMemoryCountersEx* counters, uint size);

    /// <summary><c>JOBOBJECT_CPU_RATE_CONTROL_INFORMATION</c> (winnt.h), 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CpuRateControlInformation
    {
        public uint ControlFlags;
        public uint Union;
    }

    /// <summary><c>JOBOBJECT_EXTENDED_LIMIT_INFORMATION</c> (winnt.h), 144 bytes on x64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ExtendedLimitInformation
    {
        public long PerProcessUserTimeLimit;
        public long PerJobUserTimeLimit;
        public uint LimitFlags;
        public nuint MinimumWorkingSetSize;
        public nuint MaximumWorkingSetSize;
        public uint ActiveProcessLimit;
        public nuint Affinity;
        public uint PriorityClass;
        public uint SchedulingClass;
        public ulong ReadOperationCount;
        public ulong WriteOperationCount;
        public ulong OtherOperationCount;
        public ulong ReadTransferCount;
        public ulong WriteTransferCount;
        public ulong OtherTransferCount;
        public nuint ProcessMemoryLimit;
        public nuint JobMemoryLimit;
        public nuint PeakProcessMemoryUsed;
        public nuint PeakJobMemoryUsed;
    }

    /// <summary><c>JOBOBJECT_MEMORY_USAGE_INFORMATION</c> (phnt ntpsapi.h; used by hcsshim's jobobject package), 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryUsageInformation
    {
        public ulong JobMemory;
        public ulong PeakJobMemoryUsed;
    }

    /// <summary><c>PROCESS_MEMORY_COUNTERS_EX</c> (psapi.h), 80 bytes on x64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ProcessMemoryCountersEx
    {
        public uint Size;
        public uint PageFaultCount;
        public nuint PeakWorkingSetSize;
        public nuint WorkingSetSize;
        public nuint QuotaPeakPagedPoolUsage;
        public nuint QuotaPagedPoolUsage;
        public nuint QuotaPeakNonPagedPoolUsage;
        public nuint QuotaNonPagedPoolUsage;
        public nuint PagefileUsage;
        public nuint PeakPagefileUsage;
        public nuint PrivateUsage;
    }
}
