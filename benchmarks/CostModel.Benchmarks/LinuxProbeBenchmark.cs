using BenchmarkDotNet.Attributes;
using CostModel.Collection;
using CostModel.Platforms;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>Each Linux probe alone on this machine: where the full snapshot's time and bytes go.</summary>
[MemoryDiagnoser]
public class LinuxProbeBenchmark
{
    private ServiceProvider _provider = null!;
    private ISignalProbe _probe = null!;
    private SnapshotBuilder _builder = null!;

    /// <summary>The probe's name.</summary>
    [Params("linux.power", "linux.container", "linux.compute", "linux.gpu", "linux.thermal", "linux.network")]
    public string Probe { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "bench").AddPlatformProbes();
        _provider = services.BuildServiceProvider();
        List<ISignalProbe> probes = [.. _provider.GetServices<ISignalProbe>()];
        _probe = probes.First(p => p.Name == Probe);
        _builder = new SnapshotBuilder(TimeProvider.System);
        foreach (ISignalProbe probe in probes.OrderBy(p => p.Group))
        {
            probe.Collect(_builder); // earlier groups filled (compute reads container), first deltas taken
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark]
    public void Collect() => _probe.Collect(_builder);
}
