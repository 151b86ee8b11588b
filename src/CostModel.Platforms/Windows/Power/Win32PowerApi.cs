using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Windows.Power;

/// <summary>
/// The real <see cref="IWindowsPowerApi"/>: kernel32's <c>GetSystemPowerStatus</c> and powrprof's
/// <c>CallNtPowerInformation(SystemBatteryState)</c>, each filling a stack structure; nothing is allocated.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe partial class Win32PowerApi : IWindowsPowerApi
{
    public bool TryGetSystemPowerStatus(out SystemPowerStatus status, out int error)
    {
        SystemPowerStatus s = default;
        if (GetSystemPowerStatus(&s) == 0)
        {
            error = Marshal.GetLastPInvokeError();
            status = default;
            return false;
        }

        error = 0;
        status = s;
        return true;
    }

    public int GetSystemBatteryState(out SystemBatteryState state)
    {
        SystemBatteryState s = default;
        int nt = PowerInformation.Query(PowerInformation.SystemBatteryStateLevel, &s, (uint)sizeof(SystemBatteryState));
        state = s;
        return nt;
    }

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int GetSystemPowerStatus(SystemPowerStatus* status);
}
