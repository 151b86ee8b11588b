using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.DependencyInjection;

/// <summary>Returned by <c>AddCostModel</c>: platform packages, transports and hosts add probes and parts through it.</summary>
public interface ICostModelBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }

    /// <summary>
    /// The <c>CostModel</c> configuration section given to <c>AddCostModel</c>, or null when the
    /// library is configured in code: parts added later bind their own sections below it.
    /// </summary>
    IConfiguration? Configuration { get; }
}

internal sealed class CostModelBuilder(IServiceCollection services, IConfiguration? configuration) : ICostModelBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration? Configuration { get; } = configuration;
}
