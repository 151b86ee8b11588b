using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Platforms.Windows.Power;

namespace CostModel.Platforms.Windows.Thermal;

/// <summary>
/// The real <see cref="IProcessorPowerApi"/>: kernel32's <c>GetActiveProcessorCount</c> and
/// powrprof's <c>CallNtPowerInformation(ProcessorInformation)</c> into the caller's buffer (pinned
/// for the call); nothing is allocated.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe partial class Win32ProcessorPowerApi : IProcessorPowerApi
{
    /// <summary><c>ALL_PROCESSOR_GROUPS</c> (winnt.h): count the processors of every group, not only the caller's.</summary>
    private const ushort AllProcessorGroups = 0xFFFF;

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

    public int GetProcessorInformation(Span<ProcessorPowerInformation> buffer)
    {
        fixed (ProcessorPowerInformation* p = buffer)
        {
            return PowerInformation.Query(PowerInformation.ProcessorInformationLevel, p, (uint)(buffer.Length * sizeof(ProcessorPowerInformation)));
        }
    }

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial uint GetActiveProcessorCount(ushort groupNumber);
}
