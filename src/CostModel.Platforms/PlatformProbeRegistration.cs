using CostModel.DependencyInjection;
using CostModel.Platforms.Linux;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms;

/// <summary>Registers the probes of the platform the process runs on.</summary>
public static class PlatformProbeRegistration
{
    /// <summary>
    /// Adds this platform's signal probes (Linux today; on macOS and Windows nothing yet, so
    /// every group stays Unknown with the reason "no probe registered"). Options are bound from
    /// <paramref name="linuxSection"/> when given (usually <c>CostModel:Linux</c>).
    /// </summary>
    /// <param name="builder">The builder from <c>AddCostModel</c>.</param>
    /// <param name="linuxSection">Configuration of the Linux probes, or null for defaults.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddPlatformProbes(this ICostModelBuilder builder, IConfiguration? linuxSection = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        OptionsBuilder<LinuxProbeOptions> options = builder.Services.AddOptions<LinuxProbeOptions>();
        if (linuxSection is not null)
        {
            options.Bind(linuxSection);
        }

        if (OperatingSystem.IsLinux())
        {
            options.ValidateOnStart();
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LinuxProbeOptions>, LinuxProbeOptionsValidator>());
            LinuxProbes.Register(builder.Services);
        }

        return builder;
    }
}
