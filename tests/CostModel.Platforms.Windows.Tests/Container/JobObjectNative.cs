using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Platforms.Windows.Container;

namespace CostModel.Platforms.Windows.Tests.Container;

/// <summary>What the tests need to make a job of their own: create it, set limits, put a child in it.</summary>
[SupportedOSPlatform("windows")]
internal static class JobObjectNative
{
    internal const int JobObjectExtendedLimitInformation = 9;
    internal const int JobObjectCpuRateControlInformation = 15;

    /// <summary>JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: closing the last handle ends the child.</summary>
    internal const uint KillOnJobClose = 0x2000;

    [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    internal static extern nint CreateJobObjectW(nint attributes, nint name);

    [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool SetInformationJobObject(nint job, int infoClass, ref Win32JobApi.ExtendedLimitInformation info, uint length);

    [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool SetInformationJobObject(nint job, int infoClass, ref Win32JobApi.CpuRateControlInformation info, uint length);

    [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool AssignProcessToJobObject(nint job, nint process);

    [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool CloseHandle(nint handle);
}
