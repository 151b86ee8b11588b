using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Platforms.MacOS.Compute;
using CostModel.Platforms.MacOS.Container;
using CostModel.Platforms.MacOS.Gpu;
using CostModel.Platforms.MacOS.Network;
using CostModel.Platforms.MacOS.Power;
using CostModel.Platforms.MacOS.Thermal;
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
        // One line per probe, in the Linux order (the container probe before compute, which reads
        // its limits); a host replaces one by registering another probe with the same name.
        ProbeFactory.Add<MacPowerProbe>(services, MacPowerProbe.ProbeName, SignalGroup.Power);
        ProbeFactory.Add<MacThermalProbe>(services, MacThermalProbe.ProbeName, SignalGroup.Thermal);
        ProbeFactory.Add<MacGpuProbe>(services, MacGpuProbe.ProbeName, SignalGroup.Gpu);
        ProbeFactory.Add<MacNetworkProbe>(services, MacNetworkProbe.ProbeName, SignalGroup.Network);
        ProbeFactory.Add<MacContainerProbe>(services, MacContainerProbe.ProbeName, SignalGroup.Container);
        ProbeFactory.Add<MacComputeProbe>(services, MacComputeProbe.ProbeName, SignalGroup.Compute);
    }
}
