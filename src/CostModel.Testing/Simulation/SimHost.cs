using System.Globalization;
using System.Text.Json;
using CostModel.Budgets;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Testing.Fakes;
using CostModel.Testing.Gossip;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Testing.Simulation;

/// <summary>
/// One simulated node with the library's real pieces, built through DI as a host would: the
/// collector with simulated probes reading <see cref="NodeModel"/>, the gossip adapter in pull mode
/// on the in-memory network, the scorer, the pricing catalog, the spend tracker and the router.
/// </summary>
internal sealed class SimHost : IDisposable
{
    private readonly ServiceProvider _provider;
    private IRouter? _router;

    /// <summary>Builds the node.</summary>
    /// <param name="scenario">The scenario.</param>
    /// <param name="spec">The node's entry in the scenario.</param>
    /// <param name="index">The node's position in the scenario (each node's seeds differ by it).</param>
    /// <param name="time">The virtual clock.</param>
    /// <param name="network">The gossip network to attach to.</param>
    /// <param name="seed">The scenario seed: the node model's noise.</param>
    /// <param name="routerSeed">The router seed: the baseline policies' <see cref="Random"/> and the library router's <see cref="IRandomSource"/>.</param>
    /// <param name="sharedCapabilities">The mesh's shared capabilities decoder, or null for the node's own.</param>
    public SimHost(Scenario scenario, SimulatedNode spec, int index, VirtualClock time, InMemoryNetwork network, int seed, int routerSeed, CapabilitiesInterner? sharedCapabilities = null)
    {
        Node = new NodeModel(spec, scenario.Model, time.GetUtcNow(), seed ^ (0x5EED * (index + 1))) { Arrivals = new ArrivalRateMeter(time) };
        Random = new Random(unchecked((routerSeed * 31) + index));
        // The simulator's requests are not retried: a failure is charged its request timeout
        // (OneCurrency), and the routers are told so, as an application that gives a failed request
        // up would tell its own (RoutingOptions.FailureCost); a scenario's costModel section may say otherwise.
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [$"{CostModelOptions.SectionName}:{RoutingOptions.SectionName}:{nameof(RoutingOptions.FailureCost)}"] =
                TimeSpan.FromSeconds(scenario.RequestTimeoutSeconds).ToString("c", CultureInfo.InvariantCulture),
        };
        if (scenario.CostModel is { } section)
        {
            Flatten(section, CostModelOptions.SectionName, settings);
        }

        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IRandomSource>(new SeededRandomSource(unchecked(routerSeed + (7919 * (index + 1)))));
        services.AddSingleton<IPriceSource>(new ScenarioPriceSource(scenario));
        services.AddCostModel(configuration.GetSection(CostModelOptions.SectionName))
            .AddProbe(new FakeProbe("sim-power", SignalGroup.Power, b => b.Power = Node.ReadPower(time.GetUtcNow())))
            .AddProbe(new FakeProbe("sim-compute", SignalGroup.Compute, b => b.Compute = Node.ReadCompute(time.GetUtcNow())))
            .AddProbe(new FakeProbe("sim-thermal", SignalGroup.Thermal, b => b.Thermal = Node.ReadThermal(time.GetUtcNow())))
            .AddProbe(new FakeProbe("sim-network", SignalGroup.Network, b => b.Network = Node.ReadNetwork(time.GetUtcNow())))
            .AddProbe(new FakeProbe("sim-pending", SignalGroup.Pending, b => b.Pending = Node.ReadPending(time.GetUtcNow())))
            .AddProbe(new FakeProbe("sim-gpu", SignalGroup.Gpu, b => b.Gpu = Node.ReadGpu(time.GetUtcNow())))
            .AddGossip()
            .Configure<CostModelOptions>(o => o.NodeId = spec.Id)
            .Configure<GossipOptions>(g =>
            {
                g.Dissemination = GossipDissemination.Pull;

                // One process, no attacker: the simulation measures routing, not cryptography. Senders
                // still prove themselves by challenge, as in a real mesh (a key changes no message count).
                g.AllowUnauthenticated = true;
            })
            .Configure<PricingOptions>(p => p.UseBundledTable = false)
            .Configure<RoutingOptions>(r => r.ApiEndpoints = ScenarioRuntime.Endpoints(scenario))
            .Configure<BudgetOptions>(b =>
            {
                if (scenario.ApiDailyBudgetDollars is { } budget)
                {
                    b.SpendCaps.Add(new SpendCap { Name = "daily API budget", Window = TimeSpan.FromDays(1), MaxDollars = budget, Scope = SpendScope.Api });
                }
            });
        _provider = services.BuildServiceProvider();
        try
        {
            _ = _provider.GetRequiredService<IOptions<CostModelOptions>>().Value;
            Scoring = _provider.GetRequiredService<IOptions<ScoringOptions>>().Value;
            _ = _provider.GetRequiredService<IOptions<RoutingOptions>>().Value;
            _ = _provider.GetRequiredService<IOptions<PricingOptions>>().Value;
            _ = _provider.GetRequiredService<IOptions<BudgetOptions>>().Value;
            Gossip = _provider.GetRequiredService<IOptions<GossipOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            _provider.Dispose();
            throw new ScenarioException($"{scenario.Name}: costModel options are invalid for node '{spec.Id}': {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's refusal of a value it cannot convert ("Failed to convert configuration value 'abc' at 'CostModel:Scoring:...'").
            _provider.Dispose();
            throw new ScenarioException($"{scenario.Name}: costModel cannot be read for node '{spec.Id}': {ex.Message}", ex);
        }

        View = _provider.GetRequiredService<MeshView>();
        Adapter = _provider.GetRequiredService<GossipAdapter>();
        Adapter.SharedCapabilities = sharedCapabilities;
        if (Routes(scenario, spec.Id))
        {
            // Built now, as a host builds it at start: its clocks (arrival rates, outcomes) run from here.
            _router = _provider.GetRequiredService<IRouter>();
        }
        Bandwidth = _provider.GetRequiredService<BandwidthEstimator>();
        IPriceCatalog catalog = _provider.GetRequiredService<IPriceCatalog>();
        if (scenario.Apis.Count > 0)
        {
            // The source answers synchronously (a completed task): the table is installed before this returns.
            _ = catalog.RefreshAsync().GetAwaiter().GetResult();
            ScenarioRuntime.CheckPrices(catalog, scenario);
        }

        if (Node.Models.Count > 0)
        {
            Adapter.SetCapabilities(Node.Capabilities());
        }

        Endpoint = network.Attach(spec.Id, Adapter);
        Adapter.Start();
    }

    public string Id => Node.Id;

    public NodeModel Node { get; }

    public ScoringOptions Scoring { get; }

    /// <summary>The node's gossip options as the scenario's costModel section set them: the simulator, its host, sends its rounds at their <see cref="GossipOptions.Interval"/> over links of their <see cref="GossipOptions.Mtu"/>.</summary>
    public GossipOptions Gossip { get; }

    public MeshView View { get; }

    public GossipAdapter Adapter { get; }

    /// <summary>
    /// The node's router. Built at start for a node that sends requests; a node that never does
    /// gets none unless asked (a router listens to every change of its view: in a 1,000-node mesh
    /// with a tenth of the nodes routing, the others' routers were most of the per-merge work and
    /// some 30 MB of change sets that nobody read).
    /// </summary>
    public IRouter Router => _router ??= _provider.GetRequiredService<IRouter>();

    public BandwidthEstimator Bandwidth { get; }

    public GossipEndpoint Endpoint { get; }

    /// <summary>Randomness of this router's baseline policy (random, p2c).</summary>
    public Random Random { get; }

    /// <summary>This router's requests in flight per target (what least-in-flight and p2c see).</summary>
    public Dictionary<string, int> InFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>This router's EWMA of observed seconds per output token per target (litellm-latency).</summary>
    public Dictionary<string, double> LatencyPerToken { get; } = new(StringComparer.Ordinal);

    /// <summary>Round-robin position.</summary>
    public int NextRoundRobin { get; set; }

    /// <summary>Dollars this router paid to APIs.</summary>
    public double ApiDollars { get; set; }

    public void Dispose()
    {
        Endpoint.Dispose();
        _provider.Dispose();
    }

    /// <summary>
    /// True when the workload has the node send requests (as <see cref="WorkloadGenerator"/> picks
    /// them): every node when it names no routers, else those it names, steady or in a burst (a
    /// burst naming none uses the steady routers).
    /// </summary>
    private static bool Routes(Scenario scenario, string nodeId)
    {
        Workload w = scenario.Workload;
        return w.Routers.Count == 0
            || w.Routers.Contains(nodeId, StringComparer.Ordinal)
            || w.Bursts.Exists(b => b.Routers.Contains(nodeId, StringComparer.Ordinal));
    }

    /// <summary>Turns a JSON object into configuration keys ("a:b:0").</summary>
    private static void Flatten(JsonElement element, string prefix, Dictionary<string, string?> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty p in element.EnumerateObject())
                {
                    Flatten(p.Value, prefix + ":" + p.Name, into);
                }

                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    Flatten(item, prefix + ":" + i.ToString(CultureInfo.InvariantCulture), into);
                    i++;
                }

                break;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                into[prefix] = null;
                break;
            case JsonValueKind.String:
                into[prefix] = element.GetString();
                break;
            default:
                into[prefix] = element.GetRawText();
                break;
        }
    }
}
