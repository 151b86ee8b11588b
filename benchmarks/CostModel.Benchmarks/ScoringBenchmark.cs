using BenchmarkDotNet.Attributes;
using CostModel.Factors;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>Scoring one candidate (issue goal: at most 100 ns and 0 bytes allocated).</summary>
[MemoryDiagnoser]
public class ScoringBenchmark
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private ServiceProvider _provider = null!;
    private ICostScorer _scorer = null!;
    private CostCandidate _laptop;
    private CostCandidate _gpuBox;
    private CostCandidate _api;
    private RequestProfile _request = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "bench");
        _provider = services.BuildServiceProvider();
        _scorer = _provider.GetRequiredService<ICostScorer>();
        var model = new ServedModel("llama-3.1-8b") { ParameterBillions = 8, QuantizationBits = 4.5, DecodeTokensPerSecond = 20, PrefillTokensPerSecond = 200, ParallelSlots = 2 };
        var laptop = new NodeCostFactors("laptop", 1, 1, Now)
        {
            Power = new PowerFactors
            {
                Source = Reading.Measured(PowerSource.Battery, Now, "b"),
                BatteryCount = Reading.Measured(1, Now, "b"),
                BatteryPercent = Reading.Measured(40.0, Now, "b"),
                ChargeState = Reading.Measured(ChargeState.Discharging, Now, "b"),
                BatteryRateWatts = Reading.Measured(18.0, Now, "b"),
            },
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.3, Now, "b") },
            Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.1, Now, "b") },
            Network = new NetworkFactors { Metered = Reading.Measured(true, Now, "b") },
            Pending = new PendingWork { QueueDepth = Reading.Measured(1, Now, "b") },
            Trends = new TrendFactors { BatteryPercentPerHour = Reading.Estimated(-20.0, Now, "b") },
        };
        var gpuBox = new NodeCostFactors("gpu", 1, 1, Now)
        {
            Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, Now, "b"), BatteryCount = Reading.Measured(0, Now, "b") },
            Gpu = new GpuFactors
            {
                DeviceCount = Reading.Measured(2, Now, "b"),
                Devices =
                [
                    new GpuDevice { Name = "a", Utilization = Reading.Measured(0.4, Now, "b"), PowerWatts = Reading.Measured(250.0, Now, "b") },
                    new GpuDevice { Index = 1, Name = "b", Utilization = Reading.Measured(0.7, Now, "b"), PowerWatts = Reading.Measured(300.0, Now, "b") },
                ],
            },
        };
        _laptop = new CostCandidate { TargetId = "laptop", Model = model, Factors = laptop, ObservedRttSeconds = 0.005, PlacedRequests = 1 };
        _gpuBox = new CostCandidate { TargetId = "gpu", Model = model, Factors = gpuBox };
        _api = new CostCandidate { TargetId = "api", Model = model, Price = new TokenPrice(3, 15) };
        _request = new RequestProfile("llama-3.1-8b") { InputTokens = 2_000, OutputTokens = 500, PayloadBytes = 8_000 };
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public double LaptopOnBattery() => _scorer.Score(_laptop, _request, Now).TotalDollars;

    [Benchmark]
    public double GpuBox() => _scorer.Score(_gpuBox, _request, Now).TotalDollars;

    [Benchmark]
    public double ApiEndpoint() => _scorer.Score(_api, _request, Now).TotalDollars;
}
