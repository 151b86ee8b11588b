using BenchmarkDotNet.Attributes;
using CostModel.Collection;
using CostModel.Platforms;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>
/// One full snapshot of this machine with every probe <c>AddPlatformProbes</c> registers on the OS
/// it runs on (goal on Linux and Windows: at most 50 us and 2 KiB allocated). On Linux:
/// <c>dotnet run -c Release --project benchmarks/CostModel.Benchmarks -- --filter '*SnapshotBenchmark*'</c>;
/// the Windows provider under Wine: <c>benchmarks/wine-snapshot</c>.
/// </summary>
[MemoryDiagnoser]
public class SnapshotBenchmark
{
    private ServiceProvider _provider = null!;
    private ICostCollector _collector = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "bench").AddPlatformProbes();
        _provider = services.BuildServiceProvider();
        _collector = _provider.GetRequiredService<ICostCollector>();
        _collector.Collect(); // open files, discover devices, first deltas
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark]
    public object FullSnapshot() => _collector.Collect();
}
