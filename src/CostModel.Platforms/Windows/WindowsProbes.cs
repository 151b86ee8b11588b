using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Platforms.Windows.Compute;
using CostModel.Platforms.Windows.Container;
using CostModel.Platforms.Windows.Gpu;
using CostModel.Platforms.Windows.Network;
using CostModel.Platforms.Windows.Power;
using CostModel.Platforms.Windows.Thermal;
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
        // One line per probe, in the Linux order (the container probe before compute, which reads
        // its limits); a host replaces one by registering another probe with the same name.
        ProbeFactory.Add<WindowsPowerProbe>(services, WindowsPowerProbe.ProbeName, SignalGroup.Power);
        ProbeFactory.Add<WindowsThermalProbe>(services, WindowsThermalProbe.ProbeName, SignalGroup.Thermal);
        ProbeFactory.Add<WindowsGpuProbe>(services, WindowsGpuProbe.ProbeName, SignalGroup.Gpu);
        ProbeFactory.Add<WindowsNetworkProbe>(services, WindowsNetworkProbe.ProbeName, SignalGroup.Network);
        ProbeFactory.Add<WindowsContainerProbe>(services, WindowsContainerProbe.ProbeName, SignalGroup.Container);
        ProbeFactory.Add<WindowsComputeProbe>(services, WindowsComputeProbe.ProbeName, SignalGroup.Compute);
    }
}
