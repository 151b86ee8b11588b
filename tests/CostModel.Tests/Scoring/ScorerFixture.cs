using CostModel.Factors;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Scoring;

/// <summary>Builds the real scorer through DI and node snapshots from the real model.</summary>
internal sealed class ScorerFixture : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _provider;

    public ScorerFixture(Action<ScoringOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        services.AddCostModel(o => o.NodeId = "router")
            .Configure<ScoringOptions>(o => configure?.Invoke(o));
        _provider = services.BuildServiceProvider();
        Scorer = _provider.GetRequiredService<ICostScorer>();
        Bandwidth = _provider.GetRequiredService<BandwidthEstimator>();
    }

    public ICostScorer Scorer { get; }

    public BandwidthEstimator Bandwidth { get; }

    public void Dispose() => _provider.Dispose();

    public CostBreakdown Score(CostCandidate candidate, RequestProfile request, DateTimeOffset? at = null) =>
        Scorer.Score(candidate, request, at ?? Now);

    public static ServedModel Model(double decode = 20, double prefill = 200, int slots = 1) =>
        new("llama-3.1-8b") { ParameterBillions = 8, QuantizationBits = 4.5, DecodeTokensPerSecond = decode, PrefillTokensPerSecond = prefill, ParallelSlots = slots };

    public static CostCandidate Node(string id, NodeCostFactors factors, ServedModel? model = null, bool local = false) =>
        new() { TargetId = id, Model = model ?? Model(), Factors = factors, IsLocal = local, ObservedRttSeconds = local ? null : 0.01 };

    /// <summary>A node on mains with no battery, idle CPU, cool, on an unmetered link; adjust with <c>with</c>.</summary>
    public static NodeCostFactors Desktop(string id = "desktop", double cpu = 0.0, DateTimeOffset? at = null)
    {
        DateTimeOffset t = at ?? Now;
        return new NodeCostFactors(id, 1, 1, t)
        {
            Power = new PowerFactors
            {
                Source = Reading.Measured(PowerSource.Mains, t, "test"),
                BatteryCount = Reading.Measured(0, t, "test"),
                BatteryPercent = Reading.NotSupported<double>("no system battery", t),
            },
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(cpu, t, "test") },
            Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, t, "test") },
            Network = new NetworkFactors { Metered = Reading.Measured(false, t, "test") },
        };
    }

    /// <summary>A laptop on battery at <paramref name="percent"/>, draining (or charging) at <paramref name="percentPerHour"/>.</summary>
    public static NodeCostFactors Laptop(string id, double percent, ChargeState state, double percentPerHour, double cpu = 0.1, double watts = 20, DateTimeOffset? at = null)
    {
        DateTimeOffset t = at ?? Now;
        return new NodeCostFactors(id, 1, 1, t)
        {
            Power = new PowerFactors
            {
                Source = Reading.Measured(state == ChargeState.Discharging ? PowerSource.Battery : PowerSource.Mains, t, "test"),
                BatteryCount = Reading.Measured(1, t, "test"),
                BatteryPercent = Reading.Measured(percent, t, "test"),
                ChargeState = Reading.Measured(state, t, "test"),
                BatteryRateWatts = Reading.Measured(watts, t, "test"),
            },
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(cpu, t, "test") },
            Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, t, "test") },
            Network = new NetworkFactors { Metered = Reading.Measured(false, t, "test") },
            Trends = new TrendFactors { BatteryPercentPerHour = Reading.Estimated(percentPerHour, t, "test") },
        };
    }
}
