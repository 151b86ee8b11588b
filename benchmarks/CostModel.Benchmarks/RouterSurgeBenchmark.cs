using BenchmarkDotNet.Attributes;
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
        RouterBenchMesh.Fill(view, Candidates, now);

        _router = _provider.GetRequiredService<IRouter>();
        _request = RouterBenchMesh.Request();

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
