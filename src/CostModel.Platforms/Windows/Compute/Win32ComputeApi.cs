using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Windows.Compute;

/// <summary>
/// The real <see cref="IWindowsComputeApi"/>: kernel32 through source-generated
/// <c>LibraryImport</c> stubs (blittable pointers, no marshalling, AOT-clean). Every call fills a
/// stack struct; nothing is allocated.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe partial class Win32ComputeApi : IWindowsComputeApi
{
    /// <summary><c>ALL_PROCESSOR_GROUPS</c> (winnt.h): count the processors of every group, not only the caller's.</summary>
    private const ushort AllProcessorGroups = 0xFFFF;

    /// <summary><c>JobObjectBasicAccountingInformation</c> (winnt.h JOBOBJECTINFOCLASS).</summary>
    private const int JobObjectBasicAccountingInformation = 1;

    public bool TryGetSystemTimes(out SystemTimes times, out int error)
    {
        long idle, kernel, user;
        if (!GetSystemTimes(&idle, &kernel, &user))
        {
            error = Marshal.GetLastPInvokeError();
            times = default;
            return false;
        }

        error = 0;
        times = new SystemTimes((ulong)idle, (ulong)kernel, (ulong)user);
        return true;
    }

    public bool TryGetActiveProcessorCount(out int count, out int error)
    {
        uint n = GetActiveProcessorCount(AllProcessorGroups);
        if (n == 0)
        {
            error = Marshal.GetLastPInvokeError();
            count = 0;
            return false;
        }

        error = 0;
        count = (int)Math.Min(n, int.MaxValue);
        return true;
    }

    public bool TryGetPhysicalMemory(out PhysicalMemory memory, out int error)
    {
        MemoryStatusEx status = default;
        status.Length = (uint)sizeof(MemoryStatusEx);
        if (!GlobalMemoryStatusEx(&status))
        {
            error = Marshal.GetLastPInvokeError();
            memory = default;
            return false;
        }

        error = 0;
        memory = new PhysicalMemory(status.TotalPhys, status.AvailPhys);
        return true;
    }

    public bool TryGetJobCpuTime(out ulong cpuTime, out int error)
    {
        BasicAccounting info = default;
        if (!QueryInformationJobObject(0, JobObjectBasicAccountingInformation, &info, (uint)sizeof(BasicAccounting), null))
        {
            error = Marshal.GetLastPInvokeError();
            cpuTime = 0;
            return false;
        }

        error = 0;
        cpuTime = (ulong)info.TotalUserTime + (ulong)info.TotalKernelTime;
        return true;
    }

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetSystemTimes(long* idleTime, long* kernelTime, long* userTime);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial uint GetActiveProcessorCount(ushort groupNumber);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GlobalMemoryStatusEx(MemoryStatusEx* buffer);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool QueryInformationJobObject(nint job, int infoClass, void* info, uint length, uint* returnLength);

    /// <summary><c>MEMORYSTATUSEX</c> (sysinfoapi.h), 64 bytes; <see cref="Length"/> must be set before the call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryStatusEx
    {
        public uint Length;
        public uint MemoryLoad;
        public ulong TotalPhys;
        public ulong AvailPhys;
        public ulong TotalPageFile;
        public ulong AvailPageFile;
        public ulong TotalVirtual;
        public ulong AvailVirtual;
        public ulong AvailExtendedVirtual;
    }

    /// <summary><c>JOBOBJECT_BASIC_ACCOUNTING_INFORMATION</c> (winnt.h), 48 bytes; times in 100 ns units.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct BasicAccounting
    {
        public long TotalUserTime;
        public long TotalKernelTime;
        public long ThisPeriodTotalUserTime;
        public long ThisPeriodTotalKernelTime;
        public uint TotalPageFaultCount;
        public uint TotalProcesses;
        public uint ActiveProcesses;
        public uint TotalTerminatedProcesses;
    }
}
