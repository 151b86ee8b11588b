using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Power;

/// <summary>
/// <see cref="IMacPowerSources"/> through IOKit: the power-source calls of IOPowerSources.h and
/// the registry read of <c>AppleSmartBattery</c>. Calls only; every rule is in
/// <see cref="MacPowerReader"/>.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed partial class NativePowerSources : IMacPowerSources
{
    /// <summary>The registry class of the internal battery's driver (Intel and Apple silicon).</summary>
    internal const string SmartBatteryClass = "AppleSmartBattery";

    /// <summary>Power sources read at most: a Mac has one battery and perhaps a UPS or two.</summary>
    internal const int MaxSources = 16;

    public MacPowerSourceSnapshot ReadPowerSources()
    {
        nint blob = IOPSCopyPowerSourcesInfo();
        if (blob == 0)
        {
            throw new IOException("IOPSCopyPowerSourcesInfo returned null");
        }

        try
        {
            nint list = IOPSCopyPowerSourcesList(blob);
            if (list == 0)
            {
                throw new IOException("IOPSCopyPowerSourcesList returned null");
            }

            var sources = new List<IReadOnlyDictionary<string, object>>();
            try
            {
                nint count = Math.Min(CoreFoundation.CFArrayGetCount(list), MaxSources);
                for (nint i = 0; i < count; i++)
                {
                    // Not retained: valid while the blob lives.
                    nint description = IOPSGetPowerSourceDescription(blob, CoreFoundation.CFArrayGetValueAtIndex(list, i));
                    if (description != 0)
                    {
                        sources.Add(CfConvert.ToDictionary(description));
                    }
                }
            }
            finally
            {
                CoreFoundation.CFRelease(list);
            }

            // Not retained either.
            nint providing = IOPSGetProvidingPowerSourceType(blob);
            string? type = providing == 0 ? null : CfConvert.ToValue(providing) as string;
            return new MacPowerSourceSnapshot(sources, type);
        }
        finally
        {
            CoreFoundation.CFRelease(blob);
        }
    }

    public IReadOnlyList<IReadOnlyDictionary<string, object>> ReadSmartBatteries() => IOKit.ReadServices(SmartBatteryClass);

    /// <summary>A snapshot of every power source (release it).</summary>
    [LibraryImport(IOKit.Library)]
    private static partial nint IOPSCopyPowerSourcesInfo();

    /// <summary>The sources of a snapshot, a CFArray (release it).</summary>
    [LibraryImport(IOKit.Library)]
    private static partial nint IOPSCopyPowerSourcesList(nint blob);

    /// <summary>One source's description, a CFDictionary; not retained (do not release).</summary>
    [LibraryImport(IOKit.Library)]
    private static partial nint IOPSGetPowerSourceDescription(nint blob, nint powerSource);

    /// <summary>"AC Power", "Battery Power" or "UPS Power", a CFString; not retained (do not release).</summary>
    [LibraryImport(IOKit.Library)]
    private static partial nint IOPSGetProvidingPowerSourceType(nint snapshot);
}
