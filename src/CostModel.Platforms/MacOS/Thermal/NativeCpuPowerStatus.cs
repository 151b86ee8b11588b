using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Thermal;

/// <summary><see cref="IMacCpuPowerStatus"/> through IOKit (IOPMLib.h). Calls only; the rules are in <see cref="MacThermalReader"/>.</summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe partial class NativeCpuPowerStatus : IMacCpuPowerStatus
{
    /// <summary>
    /// <see cref="RuntimeInformation.OSArchitecture"/>: the machine's architecture, Arm64 on Apple
    /// silicon even for an x64 process under Rosetta 2.
    /// </summary>
    public bool IsAppleSilicon { get; } = RuntimeInformation.OSArchitecture == Architecture.Arm64;

    public CpuPowerStatus Read()
    {
        nint status = 0;
        int result = IOPMCopyCPUPowerStatus(&status);
        if (status == 0)
        {
            return new CpuPowerStatus(null, result);
        }

        try
        {
            return result == 0 ? new CpuPowerStatus(CfConvert.ToDictionary(status), 0) : new CpuPowerStatus(null, result);
        }
        finally
        {
            CoreFoundation.CFRelease(status);
        }
    }

    /// <summary>Copies the CPU power status dictionary into <paramref name="cpuPowerStatus"/> (release it); an <c>IOReturn</c>, 0 on success.</summary>
    [LibraryImport(IOKit.Library)]
    private static partial int IOPMCopyCPUPowerStatus(nint* cpuPowerStatus);
}
