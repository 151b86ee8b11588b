using CostModel.Budgets;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>A real router built through DI over a mesh view the test controls, on a fake clock.</summary>
internal sealed class RouterFixture : IDisposable
{
    public const string Model = "llama-3.1-8b";

    private readonly ServiceProvider _provider;

    /// <param name="configure">Options.</param>
    /// <param name="seed">The random source's seed.</param>
    /// <param name="time">The clock (default: a fake one).</param>
    /// <param name="view">A view the router reads instead of the container's <see cref="MeshView"/> (which <see cref="View"/> still is).</param>
    public RouterFixture(Action<RoutingOptions>? configure = null, int seed = 1, FakeTimeProvider? time = null, IMeshView? view = null, Action<BudgetOptions>? budgets = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<IRandomSource>(new SeededRandomSource(seed));
        services.AddMetrics();
        if (view is not null)
        {
            services.AddSingleton(view);
        }

        services.AddCostModel(o => o.NodeId = "router")
            .Configure<PricingOptions>(o => o.UseBundledTable = true)
            .Configure<RoutingOptions>(o => configure?.Invoke(o))
            .Configure<BudgetOptions>(o => budgets?.Invoke(o));
        _provider = services.BuildServiceProvider();
        View = _provider.GetRequiredService<MeshView>();
        Router = _provider.GetRequiredService<IRouter>();
    }

    public FakeTimeProvider Time { get; }

    public MeshView View { get; }

    public IRouter Router { get; }

    internal DefaultRouter Internal => (DefaultRouter)Router;

    public IServiceProvider Services => _provider;

    public void Dispose() => _provider.Dispose();

    public static RequestProfile Request(string? affinity = null) =>
        new(Model) { InputTokens = 500, OutputTokens = 200, PayloadBytes = 4_000, AffinityKey = affinity };

    /// <summary>A mains-powered, unmetered node serving the model, with the given CPU load (and, with <c>routed</c>, the rate it reports routing at, <see cref="PendingWork.RoutedPerSecond"/>).</summary>
    public MeshNode Node(string id, double cpu = 0.2, long version = 1, double decode = 20, int slots = 4, NodeLiveness liveness = NodeLiveness.Alive, double? batteryPercent = null, double? routed = null)
    {
        DateTimeOffset t = Time.GetUtcNow();
        var power = batteryPercent is { } percent
            ? new PowerFactors
            {
                Source = Reading.Measured(PowerSource.Battery, t, "test"),
                BatteryCount = Reading.Measured(1, t, "test"),
                BatteryPercent = Reading.Measured(percent, t, "test"),
                ChargeState = Reading.Measured(ChargeState.Discharging, t, "test"),
            }
            : new PowerFactors { Source = Reading.Measured(PowerSource.Mains, t, "test"), BatteryCount = Reading.Measured(0, t, "test") };
        var factors = new NodeCostFactors(id, 1, version, t)
        {
            Power = power,
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(cpu, t, "test") },
            Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, t, "test") },
            Network = new NetworkFactors { Metered = Reading.Measured(false, t, "test") },
            Pending = routed is { } rate ? new PendingWork { RoutedPerSecond = Reading.Estimated(rate, t, "test") } : new PendingWork(),
        };
        var capabilities = new NodeCapabilities(id, 1)
        {
            Models = [new ServedModel(Model) { ParameterBillions = 8, QuantizationBits = 4.5, ContextTokens = 8192, DecodeTokensPerSecond = decode, PrefillTokensPerSecond = decode * 10, ParallelSlots = slots }],
        };
        return new MeshNode(factors, capabilities) { Liveness = liveness };
    }

    public void Add(params MeshNode[] nodes)
    {
        foreach (MeshNode node in nodes)
        {
            Assert.True(View.Upsert(node));
        }
    }
}
