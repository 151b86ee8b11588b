using System.Diagnostics.CodeAnalysis;
using CostModel;
using CostModel.Collection;
using CostModel.Scoring;
using CostModel.Pricing;
using CostModel.Budgets;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.DependencyInjection;
using CostModel.Gossip;
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
    /// Adds the core services, with each component's options bound from its section below
    /// <paramref name="configuration"/> (usually <c>CostModel</c>: <c>NodeId</c> at its root,
    /// <c>Collection</c>, <c>Scoring</c>, <c>Pricing</c>, <c>Routing</c>, <c>Budgets</c>,
    /// <c>Gossip</c> below it) and validated at start; docs/configuration.md lists every key.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The <c>CostModel</c> configuration section.</param>
    /// <returns>A builder to add platform probes, gossip and parts with (<c>.AddPlatformProbes()</c> from CostModel.Platforms).</returns>
    public static ICostModelBuilder AddCostModel(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CostModelOptions>().Bind(configuration);
        services.AddOptions<CollectionOptions>().Bind(configuration.GetSection(CollectionOptions.SectionName));
        services.AddOptions<ScoringOptions>().Bind(configuration.GetSection(ScoringOptions.SectionName));
        services.AddOptions<PricingOptions>().Bind(configuration.GetSection(PricingOptions.SectionName));
        services.AddOptions<RoutingOptions>().Bind(configuration.GetSection(RoutingOptions.SectionName));
        services.AddOptions<BudgetOptions>().Bind(configuration.GetSection(BudgetOptions.SectionName));
        services.AddOptions<GossipOptions>().Bind(configuration.GetSection(GossipOptions.SectionName));
        return AddCore(services, configuration);
    }

    /// <summary>
    /// Adds the core services, with the node's identity set in code and every component's options
    /// at their defaults; change those with <see cref="Configure{TOptions}"/> (or
    /// <c>services.Configure&lt;RoutingOptions&gt;(...)</c>). Validated at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the node's identity.</param>
    /// <returns>A builder to add platform probes, gossip and parts with.</returns>
    public static ICostModelBuilder AddCostModel(this IServiceCollection services, Action<CostModelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<CostModelOptions>().Configure(configure);
        return AddCore(services, configuration: null);
    }

    /// <summary>
    /// Adds the core services with every option at its default (the node id is the machine name);
    /// change them with <see cref="Configure{TOptions}"/>. Validated at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to add platform probes, gossip and parts with.</returns>
    public static ICostModelBuilder AddCostModel(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<CostModelOptions>();
        return AddCore(services, configuration: null);
    }

    /// <summary>
    /// Configures one component's options in code (<see cref="CollectionOptions"/>,
    /// <see cref="ScoringOptions"/>, <see cref="PricingOptions"/>, <see cref="RoutingOptions"/>,
    /// <see cref="BudgetOptions"/>, <see cref="GossipOptions"/>, or a platform's): runs after the
    /// configuration binding, so code wins where both set a value.
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder Configure<TOptions>(this ICostModelBuilder builder, Action<TOptions> configure)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Marks a setting of <typeparamref name="TOptions"/> as fixed at start, as the library's own
    /// are (the node id, the view's size): a reload that changes it keeps the first value, logged at
    /// Warning (event 6001) and counted (<c>costmodel.options.reload_refused</c>), and the rest of the
    /// reload applies. For settings a part reads once (a port, a buffer size), so that what the options
    /// say and what runs never disagree. Call once per setting; repeated calls for one key are ignored.
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="key">The configuration key, for the log ("CostModel:Gossip:Udp:Port").</param>
    /// <param name="get">Reads the setting.</param>
    /// <param name="set">Writes it back.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder FixAtStart<TOptions>(this ICostModelBuilder builder, string key, Func<TOptions, object?> get, Action<TOptions, object?> set)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(get);
        ArgumentNullException.ThrowIfNull(set);
        AddFixedSetting(builder.Services, new FixedSetting<TOptions>(key, get, set));
        return builder;
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
    /// change, merges what peers send into the mesh view and tracks their liveness. In a Generic
    /// Host its rounds start and stop with the host (a hosted service); elsewhere call
    /// <see cref="CostModel.Gossip.GossipAdapter.Start"/>. Wire it to a transport (the UDP one adds
    /// itself with <c>AddUdpGossipTransport()</c>). Options: <c>CostModel:Gossip</c>; a key is
    /// required there (<c>Keys</c>) unless <c>AllowUnauthenticated</c> is set.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddGossip(this ICostModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GossipOptions>, GossipKeyRequiredValidator>());
        builder.Services.TryAddSingleton(sp => new GossipAdapter(
            sp.GetRequiredService<ICostCollector>(),
            sp.GetRequiredService<MeshView>(),
            sp.GetRequiredService<ICostScorer>(),
            sp.GetRequiredService<IOptionsMonitor<GossipOptions>>(),
            sp.GetRequiredService<IOptions<CostModelOptions>>(),
            sp.GetRequiredService<IOptionsMonitor<CollectionOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<CostModelMetrics>(),
            sp.GetService<ILogger<GossipAdapter>>()));
        builder.Services.AddHostedService<CostModel.Hosting.GossipHostedService>();
        builder.Services.TryAddSingleton<CostModel.Gossip.IGossipAdapter>(sp => sp.GetRequiredService<CostModel.Gossip.GossipAdapter>());
        return builder;
    }

    private static CostModelBuilder AddCore(IServiceCollection services, IConfiguration? configuration)
    {
        AddValidatedOptions<CostModelOptions, CostModelOptionsValidator, NodeIdValidator>(services);
        AddValidatedOptions<CollectionOptions, CollectionOptionsValidator, CollectionOptionsRangeValidator>(services);
        AddValidatedOptions<ScoringOptions, ScoringOptionsValidator, ScoringOptionsRangeValidator>(services);
        AddValidatedOptions<PricingOptions, PricingOptionsValidator, PricingOptionsRangeValidator>(services);
        AddValidatedOptions<RoutingOptions, RoutingOptionsValidator, RoutingOptionsRangeValidator>(services);
        AddValidatedOptions<BudgetOptions, BudgetOptionsValidator, BudgetOptionsRangeValidator>(services);
        AddValidatedOptions<GossipOptions, GossipOptionsValidator, GossipOptionsRangeValidator>(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RoutingOptions>, RouteFilterNameValidator>());

        // Settings fixed at start (docs/configuration.md): the node's identity, the view's size and
        // the table and buffer sizes components allocate once, the gossip timer's period and the way
        // the host wires gossip. A reload changing one keeps the old value and says so.
        FixAtStart<CostModelOptions>(services, new FixedSetting<CostModelOptions>("CostModel:NodeId", o => o.NodeId, (o, v) => o.NodeId = (string)v!));
        FixAtStart<GossipOptions>(
            services,
            new("CostModel:Gossip:MaxNodes", o => o.MaxNodes, (o, v) => o.MaxNodes = (int)v!),
            new("CostModel:Gossip:Mtu", o => o.Mtu, (o, v) => o.Mtu = (int)v!),
            new("CostModel:Gossip:Dissemination", o => o.Dissemination, (o, v) => o.Dissemination = (GossipDissemination)v!),
            new("CostModel:Gossip:Interval", o => o.Interval, (o, v) => o.Interval = (TimeSpan)v!));
        FixAtStart<RoutingOptions>(services, new FixedSetting<RoutingOptions>("CostModel:Routing:MaxAffinityKeys", o => o.MaxAffinityKeys, (o, v) => o.MaxAffinityKeys = (int)v!));

        services.TryAddSingleton(TimeProvider.System);
        // Logging and metrics are the host's: without AddLogging, components log nowhere; without
        // AddMetrics, the library uses a private meter factory so its instruments still exist. That
        // factory is a singleton the container creates (only when needed), so the container disposes
        // it, and its meter with it: instruments do not outlive their container.
        services.TryAddSingleton<OwnedMeterFactory>();
        services.TryAddSingleton(sp => new CostModelMetrics(sp.GetService<IMeterFactory>() ?? sp.GetRequiredService<OwnedMeterFactory>()));
        services.TryAddSingleton<IProbeFailureReporter, LoggingProbeFailureReporter>();
        // The router counts its decisions here and the collector reports their rate (PendingWork.RoutedPerSecond).
        services.TryAddSingleton<RoutedRate>();
        services.TryAddSingleton<ICostCollector, CostCollector>();
        services.TryAddSingleton<BandwidthEstimator>();
        services.TryAddSingleton<IBandwidthEstimator>(sp => sp.GetRequiredService<BandwidthEstimator>());
        services.TryAddSingleton<ICostScorer, DefaultCostScorer>();
        services.TryAddSingleton<IPriceCatalog, PriceCatalog>();
        services.TryAddSingleton<SpendTracker>();
        services.TryAddSingleton(sp => new MeshView(
            sp.GetRequiredService<IOptions<GossipOptions>>().Value.MaxNodes,
            sp.GetRequiredService<CostModelMetrics>(),
            sp.GetService<ILogger<MeshView>>()));
        services.TryAddSingleton<IMeshView>(sp => sp.GetRequiredService<MeshView>());
        services.TryAddSingleton<IMeshViewWriter>(sp => sp.GetRequiredService<MeshView>());
        services.TryAddSingleton<IRandomSource, SharedRandomSource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, ContextLengthFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, LivenessFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, CostConstraintFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, SpendCapFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRouteFilter, EjectionFilter>());
        services.TryAddSingleton<IRouter, DefaultRouter>();
        return new CostModelBuilder(services, configuration);
    }

    private static void AddValidatedOptions<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TGenerated,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TRange>(IServiceCollection services)
        where TOptions : class
        where TGenerated : class, IValidateOptions<TOptions>
        where TRange : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TGenerated>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TRange>());
    }

    /// <summary>Registers the settings of <typeparamref name="TOptions"/> that cannot change while running (one post-configure per options type, however often registration runs).</summary>
    internal static void FixAtStart<TOptions>(IServiceCollection services, params FixedSetting<TOptions>[] settings)
        where TOptions : class
    {
        foreach (FixedSetting<TOptions> setting in settings)
        {
            AddFixedSetting(services, setting);
        }
    }

    private static void AddFixedSetting<TOptions>(IServiceCollection services, FixedSetting<TOptions> setting)
        where TOptions : class
    {
        // One per key however often registration runs (AddCostModel twice, a part added twice).
        if (services.Any(d => d.ServiceType == typeof(FixedSetting<TOptions>) && d.ImplementationInstance is FixedSetting<TOptions> known && known.Key == setting.Key))
        {
            return;
        }

        services.AddSingleton(setting);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<TOptions>, FixedAtStart<TOptions>>());
    }
}
