using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Thermal;

/// <summary><see cref="IMacCpuPowerStatus"/> through IOKit (IOPMLib.h). Calls only; the rules are in <see cref="MacThermalReader"/>.</summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe partial class NativeCpuPowerStatus : IMacCpuPowerStatus
{
    /// <summary>libSystem, for <c>sysctlbyname</c>.</summary>
    internal const string LibSystem = "/usr/lib/libSystem.B.dylib";

    /// <summary>
    /// The machine, not the process: <c>hw.optional.arm64</c> is 1 on Apple silicon, also for an
    /// x64 process under Rosetta 2, and absent on Intel (sysctl(3)); where it cannot be read,
    /// <see cref="RuntimeInformation.OSArchitecture"/>.
    /// </summary>
    public bool IsAppleSilicon { get; } = ReadIsAppleSilicon();

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

    private static bool ReadIsAppleSilicon()
    {
        int value = 0;
        nuint size = sizeof(int);
        return SysctlByName("hw.optional.arm64", &value, &size, null, 0) == 0 && size == sizeof(int)
            ? value == 1
            : RuntimeInformation.OSArchitecture == Architecture.Arm64;
    }

    /// <summary>Reads a sysctl by name into <paramref name="oldp"/>; 0 on success, -1 with errno (ENOENT for an unknown name).</summary>
    [LibraryImport(LibSystem, EntryPoint = "sysctlbyname", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysctlByName(string name, void* oldp, nuint* oldlenp, void* newp, nuint newlen);

    /// <summary>Copies the CPU power status dictionary into <paramref name="cpuPowerStatus"/> (release it); an <c>IOReturn</c>, 0 on success.</summary>
    [LibraryImport(IOKit.Library)]
    private static partial int IOPMCopyCPUPowerStatus(nint* cpuPowerStatus);
}
