using System.Runtime.Versioning;
using CostModel.Collection;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms.Windows;

/// <summary>
/// The Windows probe set: Win32 and COM calls through source-generated interop, no WMI, no
/// elevation, no process started on the collection path. See docs/windows/.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class WindowsProbes
{
    public static void Register(IServiceCollection services)
    {
        // One line per probe; a host replaces one by registering another probe with the same name.
        ProbeFactory.Add<Power.WindowsPowerProbe>(services, Power.WindowsPowerProbe.ProbeName, SignalGroup.Power);
        ProbeFactory.Add<Thermal.WindowsThermalProbe>(services, Thermal.WindowsThermalProbe.ProbeName, SignalGroup.Thermal);
        ProbeFactory.Add<Network.WindowsNetworkProbe>(services, Network.WindowsNetworkProbe.ProbeName, SignalGroup.Network);
        ProbeFactory.Add<Gpu.WindowsGpuProbe>(services, Gpu.WindowsGpuProbe.ProbeName, SignalGroup.Gpu);
    }
}
