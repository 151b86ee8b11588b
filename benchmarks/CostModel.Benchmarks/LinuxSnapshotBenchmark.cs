using BenchmarkDotNet.Attributes;
using CostModel.Collection;
using CostModel.Platforms;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>
/// One full snapshot of this machine with every registered platform probe (issue goal on Linux:
/// at most 50 us and 2 KiB allocated).
/// </summary>
[MemoryDiagnoser]
public class LinuxSnapshotBenchmark
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
