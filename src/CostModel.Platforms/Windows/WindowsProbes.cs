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
        _ = services;
        ProbeFactory.Add<Container.WindowsContainerProbe>(services, Container.WindowsContainerProbe.ProbeName, SignalGroup.Container);
        ProbeFactory.Add<Compute.WindowsComputeProbe>(services, Compute.WindowsComputeProbe.ProbeName, SignalGroup.Compute);
    }
}
