using System.Runtime.Versioning;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms.MacOS;

/// <summary>
/// The macOS probe set: IOKit, Mach, sysctl, SystemConfiguration and Network.framework through
/// source-generated interop, no subprocess, no sudo, no entitlements. Each probe is a thin native
/// layer that returns plain .NET values (property dictionaries, tick arrays, structs) and a logic
/// layer that turns them into readings; the logic is tested on readings recorded on real Macs.
/// See docs/macos/.
/// </summary>
[SupportedOSPlatform("macos")]
internal static class MacProbes
{
    public static void Register(IServiceCollection services)
    {
        // One line per probe; a host replaces one by registering another probe with the same name.
        ProbeFactory.Add<Power.MacPowerProbe>(services, Power.MacPowerProbe.ProbeName, Collection.SignalGroup.Power);
        ProbeFactory.Add<Thermal.MacThermalProbe>(services, Thermal.MacThermalProbe.ProbeName, Collection.SignalGroup.Thermal);
    }
}
