using System.Diagnostics.CodeAnalysis;
using CostModel;
using CostModel.Collection;
using CostModel.Scoring;
using CostModel.Pricing;
using CostModel.Budgets;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.DependencyInjection;
using CostModel.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers CostModel in a service collection.</summary>
public static class CostModelServiceCollectionExtensions
{
    /// <summary>
    /// Adds the core services, with options bound from <paramref name="configuration"/> (usually
    /// the <c>CostModel</c> section) and validated at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section to bind <see cref="CostModelOptions"/> from.</param>
    /// <returns>A builder to add platform probes with (<c>.AddPlatformProbes()</c> from CostModel.Platforms).</returns>
    public static ICostModelBuilder AddCostModel(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CostModelOptions>().Bind(configuration);
        return AddCore(services);
    }

    /// <summary>Adds the core services, with options set in code and validated at start.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>A builder to add platform probes with.</returns>
    public static ICostModelBuilder AddCostModel(this IServiceCollection services, Action<CostModelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<CostModelOptions>().Configure(configure);
        return AddCore(services);
    }

    /// <summary>Adds a routing filter; name it in <c>Routing:Filters</c> to use it.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="filter">The filter.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddRouteFilter(this ICostModelBuilder builder, IRouteFilter filter)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(filter);
        builder.Services.AddSingleton(filter);
        return builder;
    }

    /// <summary>Adds a host-provided price source, asked every <c>Pricing:RefreshInterval</c>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="source">The source.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddPriceSource(this ICostModelBuilder builder, IPriceSource source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        builder.Services.AddSingleton(source);
        return builder;
    }

    /// <summary>Adds a signal probe; a probe with the same name registered earlier is replaced.</summary>
    /// <typeparam name="TProbe">The probe type, created by the container.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddProbe<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TProbe>(this ICostModelBuilder builder)
        where TProbe : class, ISignalProbe
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ISignalProbe, TProbe>();
        return builder;
    }

    /// <summary>Adds a signal probe instance; a probe with the same name registered earlier is replaced.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="probe">The probe.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddProbe(this ICostModelBuilder builder, ISignalProbe probe)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(probe);
        builder.Services.AddSingleton(probe);
        return builder;
    }

    /// <summary>
    /// Adds the gossip adapter (<see cref="CostModel.Gossip.GossipAdapter"/>, also as
    /// <see cref="CostModel.Gossip.IGossipAdapter"/>): it samples this node, publishes on significant
    /// change, merges what peers send into the mesh view and tracks their liveness. Wire it to a
    /// transport and call <see cref="CostModel.Gossip.GossipAdapter.Start"/>. Options: <c>CostModel:Gossip</c>;
    /// a key is required there (<c>Keys</c>) unless <c>AllowUnauthenticated</c> is set.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddGossip(this ICostModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CostModelOptions>, GossipKeyRequiredValidator>());
        builder.Services.TryAddSingleton<CostModel.Gossip.GossipAdapter>();
        builder.Services.TryAddSingleton<CostModel.Gossip.IGossipAdapter>(sp => sp.GetRequiredService<CostModel.Gossip.GossipAdapter>());
        return builder;
    }

    private static CostModelBuilder AddCore(IServiceCollection services)
    {
        services.AddOptions<CostModelOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CostModelOptions>, CostModelOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CostModelOptions>, CostModelOptionsRangeValidator>());
        services.TryAddSingleton(TimeProvider.System);
        // Logging and metrics are the host's: without AddLogging, components log nowhere; without
        // AddMetrics, the library uses a private meter factory so its instruments still exist. That
        // factory is a singleton the container creates (only when needed), so the container disposes
        // it, and its meter with it: instruments do not outlive their container.
        services.TryAddSingleton<OwnedMeterFactory>();
        services.TryAddSingleton(sp => new CostModelMetrics(sp.GetService<IMeterFactory>() ?? sp.GetRequiredService<OwnedMeterFactory>()));
        services.TryAddSingleton<IProbeFailureReporter, LoggingProbeFailureReporter>();
        services.TryAddSingleton<ICostCollector, CostCollector>();
        services.TryAddSingleton<BandwidthEstimator>();
        services.TryAddSingleton<ICostScorer, DefaultCostScorer>();
        services.TryAddSingleton<IPriceCatalog, PriceCatalog>();
        services.TryAddSingleton<SpendTracker>();
        services.TryAddSingleton(sp => new MeshView(
            sp.GetRequiredService<IOptions<CostModelOptions>>().Value.Gossip.MaxNodes,
            sp.GetRequiredService<CostModelMetrics>(),
            sp.GetService<ILogger<MeshView>>()));
        services.TryAddSingleton<IMeshView>(sp => sp.GetRequiredService<MeshView>());
        services.TryAddSingleton<IRandomSource, SharedRandomSource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, ContextLengthFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, LivenessFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, CostConstraintFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, SpendCapFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, EjectionFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CostModelOptions>, RouteFilterNameValidator>());
        services.TryAddSingleton<IRouter, DefaultRouter>();
        return new CostModelBuilder(services);
    }
}
