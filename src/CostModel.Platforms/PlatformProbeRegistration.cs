using CostModel.DependencyInjection;
using CostModel.Platforms.Linux;
using CostModel.Platforms.MacOS;
using CostModel.Platforms.Windows;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms;

/// <summary>Registers the probes of the platform the process runs on.</summary>
public static class PlatformProbeRegistration
{
    /// <summary>
    /// Adds this platform's signal probes: Linux (procfs, sysfs, cgroups, NVML, D-Bus), Windows
    /// (Win32, PDH, DXGI, job objects, the network cost manager) or macOS (IOKit, Mach, sysctl,
    /// SystemConfiguration, Network.framework); on any other OS nothing, so every group stays
    /// Unknown with the reason "no probe registered". Linux options are bound from
    /// <paramref name="linuxSection"/>, or by default from <c>Linux</c> below the section given to
    /// <c>AddCostModel</c> (<c>CostModel:Linux</c>); the roots are fixed at start.
    /// </summary>
    /// <param name="builder">The builder from <c>AddCostModel</c>.</param>
    /// <param name="linuxSection">Configuration of the Linux probes; null for the default above (or defaults when the library is configured in code).</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddPlatformProbes(this ICostModelBuilder builder, IConfiguration? linuxSection = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        OptionsBuilder<LinuxProbeOptions> options = builder.Services.AddOptions<LinuxProbeOptions>();
        if ((linuxSection ?? builder.Configuration?.GetSection(LinuxProbeOptions.SectionName)) is { } section)
        {
            options.Bind(section);
        }

        // The probes open their files under these roots once, when they are built.
        builder
            .FixAtStart<LinuxProbeOptions>("CostModel:Linux:ProcRoot", o => o.ProcRoot, (o, v) => o.ProcRoot = (string)v!)
            .FixAtStart<LinuxProbeOptions>("CostModel:Linux:SysRoot", o => o.SysRoot, (o, v) => o.SysRoot = (string)v!);

        if (OperatingSystem.IsLinux())
        {
            options.ValidateOnStart();
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LinuxProbeOptions>, LinuxProbeOptionsValidator>());
            LinuxProbes.Register(builder.Services);
        }
        else if (OperatingSystem.IsWindows())
        {
            WindowsProbes.Register(builder.Services);
        }
        else if (OperatingSystem.IsMacOS())
        {
            MacProbes.Register(builder.Services);
        }

        return builder;
    }
}
