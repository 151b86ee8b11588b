using System.Collections.Immutable;
using System.Globalization;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>
/// The fast path (prepared node terms, built-in filters called directly) against the full path
/// (every filter through its interface, the scorer's complete <c>Score</c>): two routers with the
/// same seed, configuration, clock and history, one always asked for an explanation (which forces
/// the full path), must make the same decisions at the same costs, bit for bit.
/// </summary>
public sealed class RouterFastPathTests
{
    private const string ModelA = "llama-3.1-8b";
    private const string ModelB = "qwen-2.5-7b";
    private const string ApiModel = "gpt-4o";
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fast_and_full_paths_make_identical_decisions_over_a_varied_mesh(int seed)
    {
        IConfigurationRoot config = Configuration();
        using var full = new Side(config, seed);
        using var fast = new Side(config, seed);
        Assert.True(fast.Internal.FastPathEnabled);
        var explanation = new RouteExplanation();
        var random = new Random(seed);
        var nodeIds = Enumerable.Range(0, 40).Select(i => $"node-{i:00}").ToArray();
        foreach (string id in nodeIds)
        {
            MeshNode node = RandomNode(random, id, fast.Time.GetUtcNow(), local: id == "node-00");
            full.View.Upsert(node);
            fast.View.Upsert(node);
        }

        var leases = new List<(RouteLease Full, RouteLease Fast)>();
        var seen = RouteNotes.None;
        int routed = 0;
        int filtered = 0;
        for (int step = 0; step < 6_000; step++)
        {
            int action = random.Next(100);
            if (action < 60)
            {
                RequestProfile request = RandomRequest(random);
                RouteDecision expected = full.Router.Route(request, explanation);
                RouteDecision actual = fast.Router.Route(request);
                string where = $"step {step}, {request}";
                Assert.True(expected.TargetId == actual.TargetId, $"{where}: target {actual.TargetId}, full path {expected.TargetId}\n{explanation}");
                Assert.True(expected.Cost == actual.Cost, $"{where}: cost {actual.Cost}, full path {expected.Cost}");
                Assert.True(expected.Flags == actual.Flags, $"{where}: flags {actual.Flags}, full path {expected.Flags}");
                Assert.True(expected.CandidateCount == actual.CandidateCount && expected.FilteredCount == actual.FilteredCount, $"{where}: counts differ");
                Assert.Equal(expected.IsApiEndpoint, actual.IsApiEndpoint);
                seen |= actual.Flags;
                routed += actual.HasTarget ? 1 : 0;
                filtered += actual.FilteredCount;
                leases.Add((expected.Lease, actual.Lease));
            }
            else if (action < 78 && leases.Count > 0)
            {
                // The same outcome (or cancellation) on both sides.
                int index = random.Next(leases.Count);
                (RouteLease a, RouteLease b) = leases[index];
                leases.RemoveAt(index);
                int kind = random.Next(10);
                if (kind == 0)
                {
                    a.Dispose();
                    b.Dispose();
                }
                else
                {
                    var outcome = new RouteOutcome(kind > 3, 0.2 + (random.NextDouble() * 30), random.Next(0, 400));
                    Assert.Equal(a.Complete(outcome), b.Complete(outcome));
                }
            }
            else if (action < 88)
            {
                // Readings turn stale as time passes: prepared terms must follow.
                TimeSpan by = TimeSpan.FromSeconds(random.Next(0, 25)) + TimeSpan.FromMilliseconds(random.Next(1_000));
                full.Time.Advance(by);
                fast.Time.Advance(by);
            }
            else if (action < 96)
            {
                string id = nodeIds[random.Next(nodeIds.Length)];
                MeshNode node = RandomNode(random, id, fast.Time.GetUtcNow(), local: id == "node-00", version: step + 2);
                full.View.Upsert(node);
                fast.View.Upsert(node);
            }
            else if (action < 99)
            {
                string id = nodeIds[random.Next(nodeIds.Length)];
                if (random.Next(4) == 0)
                {
                    full.Bandwidth.Forget(id);
                    fast.Bandwidth.Forget(id);
                }
                else
                {
                    long bytes = 100_000 + random.Next(10_000_000);
                    TimeSpan took = TimeSpan.FromMilliseconds(5 + random.Next(2_000));
                    full.Bandwidth.ReportTransfer(id, bytes, took);
                    fast.Bandwidth.ReportTransfer(id, bytes, took);
                }
            }
            else
            {
                // A live option change reaches both routers (the prepared terms must be dropped).
                ChangeOptions(config, random);
            }
        }

        // The walk must have exercised the interesting cases, or it proves little.
        Assert.True(routed > 800, $"only {routed} decisions had a target");
        Assert.True(filtered > 1_000, $"only {filtered} candidates were filtered");
        Assert.Equal(RouteNotes.Panic | RouteNotes.RandomTieBreak | RouteNotes.NoRoute | RouteNotes.StickyKept | RouteNotes.StickinessBroken | RouteNotes.Switched, seen & (RouteNotes.Panic | RouteNotes.RandomTieBreak | RouteNotes.NoRoute | RouteNotes.StickyKept | RouteNotes.StickinessBroken | RouteNotes.Switched));
    }

    [Fact]
    public void Prepared_terms_expire_with_the_readings_they_used()
    {
        IConfigurationRoot config = MinimalConfiguration();
        using var side = new Side(config, 1);
        side.View.Upsert(SimpleNode("a", side.Time.GetUtcNow()));
        var request = new RequestProfile(ModelA) { InputTokens = 100, OutputTokens = 100 };

        RouteDecision fresh = side.Router.Route(request);
        side.Time.Advance(ScoringDefaults.ComputeMaxAge);
        RouteDecision stillFresh = side.Router.Route(request);
        side.Time.Advance(TimeSpan.FromTicks(1));
        RouteDecision stale = side.Router.Route(request);

        Assert.Equal(CostAssumptions.None, fresh.Cost.Assumptions & CostAssumptions.LoadUnknown);
        Assert.Equal(CostAssumptions.None, stillFresh.Cost.Assumptions & CostAssumptions.LoadUnknown);
        Assert.Equal(CostAssumptions.LoadUnknown, stale.Cost.Assumptions & CostAssumptions.LoadUnknown);
    }

    [Fact]
    public void Work_placed_before_a_new_snapshot_stops_counting_on_both_paths()
    {
        // The fast path records the snapshot each node's placed work counts from when it prepares a
        // view (TargetState.See); the full path when it prices the node. Either way, work placed
        // before the node's newer snapshot (which already reports it) must stop counting, and work
        // placed since must count.
        IConfigurationRoot config = MinimalConfiguration();
        using var full = new Side(config, 1);
        using var fast = new Side(config, 1);
        var request = new RequestProfile(ModelA) { InputTokens = 100, OutputTokens = 100 };
        var explanation = new RouteExplanation();
        var held = new List<RouteLease>();
        CostBreakdown Route(bool keep)
        {
            RouteDecision expected = full.Router.Route(request, explanation);
            RouteDecision actual = fast.Router.Route(request);
            Assert.Equal(expected.Cost, actual.Cost);
            if (keep)
            {
                held.Add(expected.Lease);
                held.Add(actual.Lease);
            }
            else
            {
                expected.Lease.Dispose();
                actual.Lease.Dispose();
            }

            return actual.Cost;
        }

        full.View.Upsert(SlottedNode("a", full.Time.GetUtcNow(), version: 1));
        fast.View.Upsert(SlottedNode("a", fast.Time.GetUtcNow(), version: 1));
        CostBreakdown idle = Route(keep: false);
        for (int i = 0; i < 3; i++)
        {
            Route(keep: true);
        }

        CostBreakdown busy = Route(keep: false);
        full.View.Upsert(SlottedNode("a", full.Time.GetUtcNow(), version: 2));
        fast.View.Upsert(SlottedNode("a", fast.Time.GetUtcNow(), version: 2));
        CostBreakdown afterSnapshot = Route(keep: true);
        CostBreakdown oneSince = Route(keep: true);

        Assert.True(busy.ComputeLatencySeconds > idle.ComputeLatencySeconds, "three placed requests must count");
        Assert.Equal(idle, afterSnapshot);
        Assert.True(oneSince.ComputeLatencySeconds > idle.ComputeLatencySeconds, "a request placed after the snapshot must count");
        Assert.True(oneSince.ComputeLatencySeconds < busy.ComputeLatencySeconds, "only the request placed after the snapshot may count");
        foreach (RouteLease lease in held)
        {
            lease.Dispose();
        }
    }

    [Fact]
    public void A_live_option_change_reaches_the_fast_path()
    {
        IConfigurationRoot config = MinimalConfiguration();
        using var side = new Side(config, 1);
        side.View.Upsert(SimpleNode("a", side.Time.GetUtcNow()));
        var request = new RequestProfile(ModelA) { InputTokens = 100, OutputTokens = 100, Urgency = Urgency.Interactive };
        double before = side.Router.Route(request).Cost.ValueOfTimeDollarsPerSecond;

        config["CostModel:Scoring:InteractiveValueOfTimeDollarsPerSecond"] = "0.5";
        config.Reload();

        Assert.Equal(ScoringDefaults.InteractiveValueOfTimeDollarsPerSecond, before);
        Assert.Equal(0.5, side.Router.Route(request).Cost.ValueOfTimeDollarsPerSecond);
    }

    [Fact]
    public void A_new_maximum_snapshot_age_reaches_the_fast_path_at_once()
    {
        // The fast path works out each node's liveness verdict and stale-after instant when it
        // prepares a view; a routing option change (here the age, read by the liveness filter from
        // its own options) must be seen by the next decision. (A reload replaces the scoring options
        // as well, which alone prepares the terms again; the plan and the age are compared too.)
        IConfigurationRoot config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CostModel:NodeId"] = "router",
            ["CostModel:Routing:MaxSnapshotAge"] = "00:02:00",
        }).Build();
        using var side = new Side(config, 1);
        side.View.Upsert(SimpleNode("a", side.Time.GetUtcNow()));
        side.View.Upsert(SimpleNode("b", side.Time.GetUtcNow() - TimeSpan.FromMinutes(1)));
        var request = new RequestProfile(ModelA) { InputTokens = 100, OutputTokens = 100 };
        RouteDecision before = side.Router.Route(request);
        before.Lease.Dispose();

        config["CostModel:Routing:MaxSnapshotAge"] = "00:00:30";
        config.Reload();
        RouteDecision after = side.Router.Route(request);
        after.Lease.Dispose();

        Assert.Equal(0, before.FilteredCount);
        Assert.Equal(1, after.FilteredCount);
        Assert.Equal("a", after.TargetId);
    }

    [Fact]
    public void A_custom_filter_or_scorer_takes_the_full_path()
    {
        var filter = new ServicesWith(s => s.AddCostModel(o => o.NodeId = "n")
            .Configure<RoutingOptions>(o => o.Filters.Add("custom"))
            .AddRouteFilter(new PassFilter()));
        var scorer = new ServicesWith(s =>
        {
            s.AddSingleton<ICostScorer>(new FlatScorer());
            s.AddCostModel(o => o.NodeId = "n");
        });
        var builtIn = new ServicesWith(s => s.AddCostModel(o => o.NodeId = "n"));
        using (filter)
        using (scorer)
        using (builtIn)
        {
            Assert.False(filter.Router.FastPathEnabled);
            Assert.False(scorer.Router.FastPathEnabled);
            Assert.True(builtIn.Router.FastPathEnabled);
        }
    }

    private static IConfigurationRoot Configuration() => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["CostModel:NodeId"] = "node-00",
        ["CostModel:Pricing:UseBundledTable"] = "true",
        ["CostModel:Routing:ApiEndpoints:0:Id"] = "api-gpt",
        ["CostModel:Routing:ApiEndpoints:0:Model"] = ApiModel,
        ["CostModel:Routing:ApiEndpoints:1:Id"] = "api-llama",
        ["CostModel:Routing:ApiEndpoints:1:Model"] = ModelA,
        ["CostModel:Routing:ApiEndpoints:1:PriceModel"] = "gpt-4o-mini",
        ["CostModel:Routing:ApiEndpoints:1:ContextTokens"] = "4000",
        ["CostModel:Routing:ApiEndpoints:2:Id"] = "api-unpriced",
        ["CostModel:Routing:ApiEndpoints:2:Model"] = ModelB,
        ["CostModel:Routing:ApiEndpoints:2:PriceModel"] = "no-such-model",
        ["CostModel:Scoring:Nodes:node-03:Metered"] = "true",
        ["CostModel:Scoring:Nodes:node-04:ElectricityDollarsPerKilowattHour"] = "0.02",
        ["CostModel:Scoring:Nodes:node-05:MeteredInterfaces:wwan0"] = "true",
        ["CostModel:Budgets:SpendCaps:0:Name"] = "daily",
        ["CostModel:Budgets:SpendCaps:0:MaxDollars"] = "0.05",
        ["CostModel:Budgets:SpendCaps:0:Scope"] = "Api",
    }).Build();

    /// <summary>A mains-powered, unmetered node serving model A, every reading observed at <paramref name="t"/>.</summary>
    private static MeshNode SimpleNode(string id, DateTimeOffset t)
    {
        var factors = new NodeCostFactors(id, 1, 1, t)
        {
            Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, t, "test"), BatteryCount = Reading.Measured(0, t, "test") },
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.1, t, "test") },
            Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, t, "test") },
            Network = new NetworkFactors { Metered = Reading.Measured(false, t, "test") },
        };
        return new MeshNode(factors, new NodeCapabilities(id, 1) { Models = [new ServedModel(ModelA) { DecodeTokensPerSecond = 20, PrefillTokensPerSecond = 200 }] });
    }

    /// <summary>Like <see cref="SimpleNode"/>, with eight parallel slots (placed work raises the load without reaching the cap).</summary>
    /// <summary>A node with one slot: every request placed on it waits for the ones before it.</summary>
    private static MeshNode SlottedNode(string id, DateTimeOffset t, long version)
    {
        MeshNode node = SimpleNode(id, t);
        var factors = new NodeCostFactors(id, 1, version, t)
        {
            Power = node.Factors.Power,
            Compute = node.Factors.Compute,
            Thermal = node.Factors.Thermal,
            Network = node.Factors.Network,
        };
        return new MeshNode(factors, new NodeCapabilities(id, version) { Models = [new ServedModel(ModelA) { DecodeTokensPerSecond = 20, PrefillTokensPerSecond = 200, ParallelSlots = 1 }] });
    }

    private static IConfigurationRoot MinimalConfiguration() =>
        new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create("CostModel:NodeId", (string?)"router")]).Build();

    private static void ChangeOptions(IConfigurationRoot config, Random random)
    {
        switch (random.Next(6))
        {
            case 0:
                config["CostModel:Scoring:ElectricityDollarsPerKilowattHour"] = (0.05 + (random.NextDouble() * 0.5)).ToString(CultureInfo.InvariantCulture);
                break;
            case 1:
                config["CostModel:Scoring:UnknownMetered"] = random.Next(2) == 0 ? "AssumeMetered" : "AssumeNotMetered";
                break;
            case 2:
                config["CostModel:Scoring:Nodes:node-0" + random.Next(6, 10) + ":Metered"] = random.Next(2) == 0 ? "true" : "false";
                break;
            case 3:
                config["CostModel:Routing:MaxSnapshotAge"] = TimeSpan.FromSeconds(30 + random.Next(300)).ToString("c", CultureInfo.InvariantCulture);
                break;
            case 4:
                config["CostModel:Scoring:MaxDollarsPerRequest"] = random.Next(2) == 0 ? null : (0.05 + (random.NextDouble() * 0.5)).ToString(CultureInfo.InvariantCulture);
                break;
            default:
                config["CostModel:Scoring:BandwidthPriorBitsPerSecond"] = (1e6 + (random.NextDouble() * 1e8)).ToString(CultureInfo.InvariantCulture);
                break;
        }

        config.Reload();
    }

    private static RequestProfile RandomRequest(Random random)
    {
        int pick = random.Next(20);
        string model = pick < 15 ? ModelA : pick < 18 ? ModelB : ApiModel;
        return new RequestProfile(model)
        {
            InputTokens = random.Next(10) == 0 ? 6_000 + random.Next(4_000) : random.Next(2_000),
            OutputTokens = random.Next(600),
            PayloadBytes = random.Next(5) == 0 ? random.Next(50_000_000) : random.Next(20_000),
            Urgency = (Urgency)random.Next(3),
            AffinityKey = random.Next(2) == 0 ? $"conversation-{random.Next(4)}" : null,
            ExcludeMetered = random.Next(8) == 0,
            ValueOfTimeDollarsPerSecond = random.Next(6) == 0 ? random.NextDouble() * 0.05 : null,
            MaxDollarsPerRequest = random.Next(10) == 0 ? random.NextDouble() * 0.002 : null,
            MinParameterBillions = random.Next(12) == 0 ? 7 : null,
            MinQuantizationBits = random.Next(15) == 0 ? 4 : null,
            DollarsPerBillionParameters = random.Next(6) == 0 ? random.NextDouble() * 0.001 : 0,
            DollarsPerQuantizationBit = random.Next(8) == 0 ? random.NextDouble() * 0.001 : 0,
        };
    }

    /// <summary>A node with a random mix of power, load, heat, link, staleness, liveness and models.</summary>
    private static MeshNode RandomNode(Random random, string id, DateTimeOffset now, bool local, long version = 1)
    {
        // Each reading was observed up to 40 s ago, so some turn stale while the walk goes on.
        DateTimeOffset At() => now - TimeSpan.FromMilliseconds(random.Next(40_000));
        Reading<T> Maybe<T>(T value)
            where T : struct => random.Next(8) == 0 ? Reading.Unknown<T>("test: not read") : Reading.Measured(value, At(), "test");

        PowerFactors power = random.Next(5) switch
        {
            0 => new PowerFactors { Source = Maybe(PowerSource.Mains), BatteryCount = Maybe(0) },
            1 => new PowerFactors
            {
                Source = Maybe(PowerSource.Battery),
                BatteryCount = Maybe(1),
                BatteryPercent = Maybe(2 + (random.NextDouble() * 90)),
                ChargeState = Maybe(ChargeState.Discharging),
                BatteryRateWatts = Maybe(5 + (random.NextDouble() * 40)),
            },
            2 => new PowerFactors
            {
                Source = Maybe(PowerSource.Mains),
                BatteryCount = Maybe(1),
                BatteryPercent = Maybe(random.NextDouble() * 100),
                ChargeState = Maybe(ChargeState.Charging),
            },
            3 => new PowerFactors { Source = Maybe(PowerSource.Ups), BatteryCount = Maybe(1), BatteryPercent = Maybe(random.NextDouble() * 100) },
            _ => new PowerFactors(),
        };
        ImmutableArray<GpuDevice> gpus = random.Next(4) == 0
            ? [.. Enumerable.Range(0, 1 + random.Next(2)).Select(i => new GpuDevice { Index = i, Name = "g", Utilization = Maybe(random.NextDouble()), PowerWatts = Maybe(random.NextDouble() * 400) })]
            : [];
        var factors = new NodeCostFactors(id, 1, version, now - TimeSpan.FromSeconds(random.Next(240)))
        {
            Power = power,
            Compute = new ComputeFactors { CpuUtilization = Maybe(random.NextDouble()) },
            Gpu = new GpuFactors { DeviceCount = Reading.Measured(gpus.Length, now, "test"), Devices = gpus },
            Thermal = new ThermalFactors { ThrottleRatio = Maybe(random.Next(3) == 0 ? random.NextDouble() * 0.6 : 0.0) },
            Network = new NetworkFactors { Metered = Maybe(random.Next(4) == 0), DefaultInterface = random.Next(3) == 0 ? "wwan0" : "eth0" },
            Pending = new PendingWork { QueueDepth = random.Next(3) == 0 ? Maybe(random.Next(6)) : default },
            Trends = new TrendFactors { BatteryPercentPerHour = random.Next(3) == 0 ? Maybe(-random.NextDouble() * 60) : default },
        };

        ServedModel Served(string model) => new(model)
        {
            ParameterBillions = random.Next(4) == 0 ? null : 3 + random.Next(70),
            QuantizationBits = random.Next(4) == 0 ? null : 2 + random.Next(15),
            ContextTokens = random.Next(3) == 0 ? null : 4_096 + random.Next(8_000),
            DecodeTokensPerSecond = random.Next(5) == 0 ? null : 5 + (random.NextDouble() * 60),
            PrefillTokensPerSecond = random.Next(5) == 0 ? null : 50 + (random.NextDouble() * 600),
            ParallelSlots = random.Next(3) == 0 ? null : random.Next(0, 5),
        };

        var models = new List<ServedModel>();
        if (random.Next(5) != 0)
        {
            models.Add(Served(ModelA));
        }

        if (random.Next(3) == 0)
        {
            models.Add(Served(ModelB.ToUpperInvariant()));
        }

        ImmutableArray<RelayRoute> relays = random.Next(4) == 0 ? [new RelayRoute(ModelA, "node-01", 1 + random.Next(3))] : [];
        NodeLiveness liveness = random.Next(12) switch
        {
            0 => NodeLiveness.Dead,
            1 => NodeLiveness.Suspect,
            _ => NodeLiveness.Alive,
        };
        return new MeshNode(factors, new NodeCapabilities(id, version) { Models = [.. models], Relays = relays }) { Liveness = liveness, IsLocal = local };
    }

    /// <summary>A router built from configuration, on its own fake clock and seeded randomness.</summary>
    private sealed class Side : IDisposable
    {
        private readonly ServiceProvider _provider;

        public Side(IConfiguration config, int seed)
        {
            Time = new FakeTimeProvider(Start);
            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(Time);
            services.AddSingleton<IRandomSource>(new SeededRandomSource(seed));
            services.AddCostModel(config.GetSection("CostModel"));
            _provider = services.BuildServiceProvider();
            View = _provider.GetRequiredService<MeshView>();
            Router = _provider.GetRequiredService<IRouter>();
            Bandwidth = _provider.GetRequiredService<BandwidthEstimator>();
        }

        public FakeTimeProvider Time { get; }

        public MeshView View { get; }

        public IRouter Router { get; }

        public BandwidthEstimator Bandwidth { get; }

        internal DefaultRouter Internal => (DefaultRouter)Router;

        public void Dispose() => _provider.Dispose();
    }

    private sealed class ServicesWith : IDisposable
    {
        private readonly ServiceProvider _provider;

        public ServicesWith(Action<IServiceCollection> configure)
        {
            var services = new ServiceCollection();
            configure(services);
            _provider = services.BuildServiceProvider();
        }

        internal DefaultRouter Router => (DefaultRouter)_provider.GetRequiredService<IRouter>();

        public void Dispose() => _provider.Dispose();
    }

    private sealed class PassFilter : IRouteFilter
    {
        public string Name => "custom";

        public bool NeedsCost => false;

        public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => RouteFilterResult.Pass;
    }

    private sealed class FlatScorer : ICostScorer
    {
        public CostBreakdown Score(in CostCandidate candidate, RequestProfile request, DateTimeOffset now) => new() { ApiDollars = 0.001 };
    }
}
