using BenchmarkDotNet.Attributes;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>
/// Route under churn (issue 17, item 2): one routing decision right after one node's snapshot was
/// replaced in the view, as in a mesh where every node publishes on its own schedule (1,000 nodes
/// each publishing every 5 s is 200 changes a second). Each operation replaces the next node's
/// snapshot (round robin over the nodes, alternating two prepared snapshots of each, with another
/// load and a newer version) through the library's own view, then routes one request. Goals: 100
/// candidates at most 5 us median, 1,000 at most 50 us, 0 B per operation.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RouterChurnBenchmark
{
    private ServiceProvider _provider = null!;
    private IRouter _router = null!;
    private IMeshViewWriter _writer = null!;
    private RequestProfile _request = null!;
    private MeshNode[][] _snapshots = [];
    private int _next;
    private int _turn;

    /// <summary>Candidates serving the requested model.</summary>
    [Params(100, 1000)]
    public int Candidates { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        var clock = new SteadyClock(TimeProvider.System.GetUtcNow());
        services.AddSingleton<TimeProvider>(clock); // requests at a steady rate (SteadyClock)
        services.AddCostModel(o => o.NodeId = "bench");
        _provider = services.BuildServiceProvider();
        _writer = _provider.GetRequiredService<IMeshViewWriter>();
        DateTimeOffset now = _provider.GetRequiredService<TimeProvider>().GetUtcNow().AddDays(3650); // fresh for the whole run (the steady clock moves 25 ms a read)
        var random = new Random(7);
        _snapshots = new MeshNode[Candidates][];
        for (int i = 0; i < Candidates; i++)
        {
            string id = RouterBenchMesh.NodeId(i);
            NodeCapabilities capabilities = RouterBenchMesh.Capabilities(id);
            _snapshots[i] = [.. Enumerable.Range(1, 2).Select(version => new MeshNode(RouterBenchMesh.Factors(id, version, random.NextDouble() * 0.8, now), capabilities))];
            _writer.Upsert(_snapshots[i][0]);
        }

        _router = _provider.GetRequiredService<IRouter>();
        _request = RouterBenchMesh.Request();
        _router.Route(_request).Lease.Dispose(); // build the index and its terms
        clock.Warm(() => _router.Route(_request).Lease.Dispose()); // the router's usual arrival rate is the steady one
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    /// <summary>One node's snapshot replaced, then one decision.</summary>
    [Benchmark]
    public string? RouteAfterOneChange()
    {
        _writer.Upsert(_snapshots[_next][1 - _turn]);
        if (++_next == _snapshots.Length)
        {
            _next = 0;
            _turn = 1 - _turn;
        }

        RouteDecision decision = _router.Route(_request);
        decision.Lease.Dispose();
        return decision.TargetId;
    }
}
