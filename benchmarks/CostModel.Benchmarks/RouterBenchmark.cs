using BenchmarkDotNet.Attributes;
using CostModel.Factors;
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
