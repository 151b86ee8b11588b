using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Windows.Power;

/// <summary>
/// <c>CallNtPowerInformation</c> (powrprof.dll) through a source-generated, blittable
/// <c>LibraryImport</c>: pointers in, NTSTATUS out, no marshalling, AOT-clean. Shared by the power
/// probe (<see cref="SystemBatteryStateLevel"/>) and the thermal probe (<see cref="ProcessorInformationLevel"/>).
/// Unprivileged for both levels.
/// </summary>
[SupportedOSPlatform("windows")]
internal static unsafe partial class PowerInformation
{
    /// <summary><c>SystemBatteryState</c> (POWER_INFORMATION_LEVEL, winnt.h): a SYSTEM_BATTERY_STATE.</summary>
    internal const int SystemBatteryStateLevel = 5;

    /// <summary><c>ProcessorInformation</c> (POWER_INFORMATION_LEVEL, winnt.h): one PROCESSOR_POWER_INFORMATION per processor.</summary>
    internal const int ProcessorInformationLevel = 11;

    /// <summary>Calls <c>CallNtPowerInformation</c> with no input buffer.</summary>
    /// <returns>The NTSTATUS (0 on success).</returns>
    internal static int Query(int level, void* output, uint outputLength) => CallNtPowerInformation(level, null, 0, output, outputLength);

    [LibraryImport("powrprof.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int CallNtPowerInformation(int informationLevel, void* inputBuffer, uint inputBufferLength, void* outputBuffer, uint outputBufferLength);
}
