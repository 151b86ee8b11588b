using BenchmarkDotNet.Attributes;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>
/// One routing decision over N candidates (issue goal: at most 2 us for 100 candidates and 0 bytes
/// per decision in steady state), beside YARP's default policy as an anchor: power of two choices
/// on least requests over the same candidates.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RouterBenchmark
{
    private ServiceProvider _provider = null!;
    private IRouter _router = null!;
    private RequestProfile _request = null!;
    private int[] _inFlight = [];
    private Random _random = null!;

    /// <summary>Candidates serving the requested model.</summary>
    [Params(10, 100, 1000)]
    public int Candidates { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        var clock = new SteadyClock(TimeProvider.System.GetUtcNow());
        services.AddSingleton<TimeProvider>(clock); // requests at a steady rate (SteadyClock)
        services.AddCostModel(o => o.NodeId = "bench");
        _provider = services.BuildServiceProvider();
        var view = _provider.GetRequiredService<MeshView>();
        DateTimeOffset now = _provider.GetRequiredService<TimeProvider>().GetUtcNow().AddDays(3650); // fresh for the whole run (the steady clock moves 25 ms a read)
        RouterBenchMesh.Fill(view, Candidates, now);

        _router = _provider.GetRequiredService<IRouter>();
        _request = RouterBenchMesh.Request();
        _inFlight = new int[Candidates];
        _random = new Random(11);
        _router.Route(_request).Lease.Dispose(); // build the view cache
        clock.Warm(() => _router.Route(_request).Lease.Dispose()); // the router's usual arrival rate is the steady one
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public string? CostModelRoute()
    {
        RouteDecision decision = _router.Route(_request);
        decision.Lease.Dispose();
        return decision.TargetId;
    }

    [Benchmark]
    public int PowerOfTwoLeastRequests()
    {
        int a = _random.Next(_inFlight.Length);
        int b = _random.Next(_inFlight.Length - 1);
        if (b >= a)
        {
            b++;
        }

        int chosen = _inFlight[a] <= _inFlight[b] ? a : b;
        _inFlight[chosen]++;
        _inFlight[chosen]--;
        return chosen;
    }
}
