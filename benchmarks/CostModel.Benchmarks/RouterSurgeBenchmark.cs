using BenchmarkDotNet.Attributes;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>
/// One routing decision in a surge (<see cref="BurstClock"/>: bursts of about 60 requests within
/// 0.13 s, two minutes apart), over the mesh of <see cref="RouterBenchmark"/>: most decisions draw
/// from the water-filling allocation of the herd this router expects (<c>HerdSpread.Draw</c>), whose
/// level is found over every candidate within the herd's reach (here all of them).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RouterSurgeBenchmark
{
    private ServiceProvider _provider = null!;
    private IRouter _router = null!;
    private RequestProfile _request = null!;

    /// <summary>Candidates serving the requested model.</summary>
    [Params(100, 1000)]
    public int Candidates { get; set; }

    /// <summary>The share of the setup's decisions that were drawn from an expected herd.</summary>
    public double HerdDrawShare { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        var clock = new BurstClock(TimeProvider.System.GetUtcNow());
        services.AddSingleton<TimeProvider>(clock);
        services.AddCostModel(o => o.NodeId = "bench");
        _provider = services.BuildServiceProvider();
        var view = _provider.GetRequiredService<MeshView>();
        DateTimeOffset now = clock.GetUtcNow().AddDays(36500); // fresh for the whole run (the burst clock moves two minutes a burst)
        var random = new Random(7);
        for (int i = 0; i < Candidates; i++)
        {
            string id = $"node-{i:0000}";
            var factors = new NodeCostFactors(id, 1, 1, now)
            {
                Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, now, "b"), BatteryCount = Reading.Measured(0, now, "b") },
                Compute = new ComputeFactors { CpuUtilization = Reading.Measured(random.NextDouble() * 0.8, now, "b") },
                Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, now, "b") },
                Network = new NetworkFactors { Metered = Reading.Measured(false, now, "b") },
            };
            var capabilities = new NodeCapabilities(id, 1) { Models = [new ServedModel("llama-3.1-8b") { DecodeTokensPerSecond = 20, PrefillTokensPerSecond = 200, ParallelSlots = 4, ContextTokens = 8192 }] };
            view.Upsert(new MeshNode(factors, capabilities));
        }

        _router = _provider.GetRequiredService<IRouter>();
        _request = new RequestProfile("llama-3.1-8b") { InputTokens = 500, OutputTokens = 200, PayloadBytes = 4_000 };

        // Ten virtual minutes of bursts (the usual rate settles), then how many decisions were herd draws.
        int drawn = 0;
        const int Decisions = 320;
        for (int i = 0; i < Decisions; i++)
        {
            RouteDecision decision = _router.Route(_request);
            decision.Lease.Dispose();
            drawn += (decision.Flags & RouteNotes.HerdDraw) != 0 ? 1 : 0;
        }

        HerdDrawShare = drawn / (double)Decisions;
        Console.WriteLine($"// RouterSurgeBenchmark({Candidates}): {HerdDrawShare:P0} of the setup's decisions were herd draws");
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark]
    public string? RouteInASurge()
    {
        RouteDecision decision = _router.Route(_request);
        decision.Lease.Dispose();
        return decision.TargetId;
    }
}
