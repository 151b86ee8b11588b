namespace CostModel.DependencyInjection;

/// <summary>Returned by <c>AddCostModel</c>: platform packages and hosts add probes and parts through it.</summary>
public interface ICostModelBuilder
{
    /// <summary>The service collection being configured.</summary>
    Microsoft.Extensions.DependencyInjection.IServiceCollection Services { get; }
}

internal sealed class CostModelBuilder(Microsoft.Extensions.DependencyInjection.IServiceCollection services) : ICostModelBuilder
{
    public Microsoft.Extensions.DependencyInjection.IServiceCollection Services { get; } = services;
}
