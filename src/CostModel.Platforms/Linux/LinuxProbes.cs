using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Platforms.Linux.Cgroups;
using CostModel.Platforms.Linux.Gpu;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms.Linux;

/// <summary>The Linux probe set. Each probe reads files under the configured roots; none starts a process on the collection path.</summary>
[SupportedOSPlatform("linux")]
internal static class LinuxProbes
{
    public static void Register(IServiceCollection services)
    {
        // One line per probe; a host replaces one by registering another probe with the same name.
        ProbeFactory.Add<LinuxPowerProbe>(services, LinuxPowerProbe.ProbeName, SignalGroup.Power);
        ProbeFactory.Add<LinuxThermalProbe>(services, LinuxThermalProbe.ProbeName, SignalGroup.Thermal);
        ProbeFactory.Add<LinuxGpuProbe>(services, LinuxGpuProbe.ProbeName, SignalGroup.Gpu);
        ProbeFactory.Add<LinuxNetworkProbe>(services, LinuxNetworkProbe.ProbeName, SignalGroup.Network);
        services.AddSingleton<CgroupReader>();
        ProbeFactory.Add<LinuxContainerProbe>(services, LinuxContainerProbe.ProbeName, SignalGroup.Container);
        ProbeFactory.Add<LinuxComputeProbe>(services, LinuxComputeProbe.ProbeName, SignalGroup.Compute);
    }
}
