using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Platforms.Linux.Gpu;
using CostModel.Platforms.Linux.Cgroups;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms.Linux;

/// <summary>The Linux probe set. Each probe reads files under the configured roots; none starts a process on the collection path.</summary>
[SupportedOSPlatform("linux")]
internal static class LinuxProbes
{
    public static void Register(IServiceCollection services)
    {
        // One line per probe; a host replaces one by registering another probe with the same name.
        services.AddSingleton<ISignalProbe, LinuxPowerProbe>();
        services.AddSingleton<ISignalProbe, LinuxThermalProbe>();
        services.AddSingleton<ISignalProbe, LinuxGpuProbe>();
        services.AddSingleton<ISignalProbe, LinuxNetworkProbe>();
        services.AddSingleton<CgroupReader>();
        services.AddSingleton<ISignalProbe, LinuxContainerProbe>();
        services.AddSingleton<ISignalProbe, LinuxComputeProbe>();
    }
}
