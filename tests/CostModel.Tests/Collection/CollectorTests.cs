using System.Reactive.Concurrency;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Collection;

public sealed class CollectorTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly ServiceCollection _services = new();
    private ServiceProvider? _provider;

    public void Dispose() => _provider?.Dispose();

    private ICostCollector Build(Action<CollectionOptions>? configure = null, params ISignalProbe[] probes)
    {
        _services.AddSingleton<TimeProvider>(_time);
        _services.AddMetrics();
        var builder = _services.AddCostModel(o => o.NodeId = "node-a")
            .Configure<CollectionOptions>(o => configure?.Invoke(o));
        foreach (ISignalProbe probe in probes)
        {
            builder.AddProbe(probe);
        }

        _provider = _services.BuildServiceProvider();
        return _provider.GetRequiredService<ICostCollector>();
    }

    private MetricCollector<long> Metric(string name) =>
        new(_provider!.GetRequiredService<CostModelMetrics>().Meter, name);

    private static FakeProbe Power(Func<PowerSource> source) =>
        new("fake.power", SignalGroup.Power, b => b.Power = new PowerFactors
        {
            Source = Reading.Measured(source(), b.TimeProvider.GetUtcNow(), "fake"),
        });

    [Fact]
    public void Without_probes_every_group_is_unknown_and_identity_is_set()
    {
        ICostCollector collector = Build();

        NodeCostFactors first = collector.Collect();
        NodeCostFactors second = collector.Collect();

        Assert.Equal("node-a", first.NodeId);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), first.Generation);
        Assert.Equal(first.Generation, second.Generation);
        Assert.Equal(first.Version + 1, second.Version);
        Assert.Equal(SignalQuality.Unknown, first.Power.Source.Quality);
        Assert.Equal(SignalQuality.Unknown, first.Compute.CpuUtilization.Quality);
        Assert.Equal("no probe registered for the Compute group on this platform", first.Compute.CpuUtilization.Reason);
        Assert.Equal("no probe registered for the Pending group on this platform", first.Pending.InFlight.Reason);
    }

    [Fact]
    public void Probes_run_in_group_order_so_compute_sees_container_limits()
    {
        var order = new List<string>();
        var compute = new FakeProbe("fake.compute", SignalGroup.Compute, b =>
        {
            order.Add("compute");
            double cores = b.Container.CpuLimitCores.Value.Amount;
            b.Compute = new ComputeFactors { EffectiveCores = Reading.Measured(cores, b.TimeProvider.GetUtcNow(), "from container") };
        });
        var container = new FakeProbe("fake.container", SignalGroup.Container, b =>
        {
            order.Add("container");
            b.Container = new ContainerFactors { CpuLimitCores = Reading.Measured(ResourceLimit.Of(0.5), b.TimeProvider.GetUtcNow(), "cpu.max") };
        });

        NodeCostFactors snapshot = Build(null, compute, container).Collect();

        Assert.Equal(["container", "compute"], order);
        Assert.Equal(0.5, snapshot.Compute.EffectiveCores.Value);
    }

    [Fact]
    public void A_later_probe_with_the_same_name_replaces_the_earlier_one()
    {
        var first = new FakeProbe("linux.power", SignalGroup.Power, _ => { });
        var replacement = Power(() => PowerSource.Ups);
        replacement = new FakeProbe("linux.power", SignalGroup.Power, replacement.OnCollect);

        NodeCostFactors snapshot = Build(null, first, replacement).Collect();

        Assert.Equal(0, first.Calls);
        Assert.Equal(PowerSource.Ups, snapshot.Power.Source.Value);
    }

    [Fact]
    public void A_throwing_probe_makes_its_group_unknown_with_the_reason_and_is_counted()
    {
        var broken = new FakeProbe("fake.thermal", SignalGroup.Thermal, _ => throw new IOException("EIO on thermal_zone3"));
        var compute = new FakeProbe("fake.compute", SignalGroup.Compute, b =>
            b.Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.2, b.TimeProvider.GetUtcNow(), "fake") });
        ICostCollector collector = Build(null, broken, compute);
        using MetricCollector<long> failures = Metric("costmodel.collector.probe_failures");

        NodeCostFactors snapshot = collector.Collect();

        Assert.Equal(SignalQuality.Unknown, snapshot.Thermal.Level.Quality);
        Assert.Contains("EIO on thermal_zone3", snapshot.Thermal.Level.Reason, StringComparison.Ordinal);
        Assert.Contains("fake.thermal", snapshot.Thermal.HottestCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(0.2, snapshot.Compute.CpuUtilization.Value);
        CollectedMeasurement<long> failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal("fake.thermal", failure.Tags["probe"]);
    }

    [Fact]
    public void A_pass_during_which_the_power_source_changed_is_redone()
    {
        // The source flips between the start-of-pass and end-of-pass reads exactly once.
        var sources = new Queue<PowerSource>([PowerSource.Mains, PowerSource.Battery, PowerSource.Battery, PowerSource.Battery]);
        var loadReads = 0;
        var compute = new FakeProbe("fake.compute", SignalGroup.Compute, _ => loadReads++);
        ICostCollector collector = Build(null, Power(() => sources.Dequeue()), compute);
        using MetricCollector<long> retries = Metric("costmodel.collector.pass_retries");

        NodeCostFactors snapshot = collector.Collect();

        Assert.Equal(PowerSource.Battery, snapshot.Power.Source.Value);
        Assert.Equal(2, loadReads);
        Assert.Single(retries.GetMeasurementSnapshot());
    }

    [Fact]
    public void Redone_passes_are_bounded_when_the_source_keeps_flapping()
    {
        var flip = false;
        var compute = new FakeProbe("fake.compute", SignalGroup.Compute, _ => { });
        ICostCollector collector = Build(o => o.MaxPassRetries = 2, Power(() => (flip = !flip) ? PowerSource.Mains : PowerSource.Battery), compute);

        collector.Collect();

        Assert.Equal(3, compute.Calls);
    }

    [Fact]
    public void Operator_metered_override_wins_over_the_probe()
    {
        var network = new FakeProbe("fake.network", SignalGroup.Network, b => b.Network = new NetworkFactors
        {
            DefaultInterface = "wwan0",
            Metered = Reading.Measured(false, b.TimeProvider.GetUtcNow(), "NetworkManager"),
        });

        NodeCostFactors global = Build(o => o.Metered = true, network).Collect();

        Assert.Equal(SignalQuality.Overridden, global.Network.Metered.Quality);
        Assert.True(global.Network.Metered.Value);
        Assert.Equal("CostModel:Collection:Metered", global.Network.Metered.Source);
    }

    [Fact]
    public void Per_interface_override_applies_only_to_the_default_interface()
    {
        string iface = "wwan0";
        var network = new FakeProbe("fake.network", SignalGroup.Network, b => b.Network = new NetworkFactors
        {
            DefaultInterface = iface,
            Metered = Reading.Unknown<bool>("no NetworkManager", b.TimeProvider.GetUtcNow()),
        });
        ICostCollector collector = Build(o => o.MeteredInterfaces["wwan0"] = true, network);

        Assert.True(collector.Collect().Network.Metered.Value);
        iface = "eth0";
        Assert.Equal(SignalQuality.Unknown, collector.Collect().Network.Metered.Quality);
    }

    [Fact]
    public void Stream_samples_at_the_interval_and_estimates_a_draining_battery()
    {
        double percent = 80;
        var power = new FakeProbe("fake.power", SignalGroup.Power, b => b.Power = new PowerFactors
        {
            Source = Reading.Measured(PowerSource.Battery, b.TimeProvider.GetUtcNow(), "fake"),
            ChargeState = Reading.Measured(ChargeState.Discharging, b.TimeProvider.GetUtcNow(), "fake"),
            BatteryPercent = Reading.Measured(percent, b.TimeProvider.GetUtcNow(), "fake"),
        });
        ICostCollector collector = Build(null, power);
        var scheduler = new HistoricalScheduler(_time.GetUtcNow());
        var seen = new List<NodeCostFactors>();
        using IDisposable subscription = collector.Observe(scheduler, TimeSpan.FromSeconds(10)).Subscribe(seen.Add);

        scheduler.AdvanceBy(TimeSpan.Zero);
        for (int i = 0; i < 18; i++)
        {
            percent -= 0.1; // 0.1 % per 10 s = 36 % per hour
            _time.Advance(TimeSpan.FromSeconds(10));
            scheduler.AdvanceBy(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(19, seen.Count);
        Assert.Equal(SignalQuality.Unknown, seen[0].Trends.BatteryPercentPerHour.Quality);
        Reading<double> trend = seen[^1].Trends.BatteryPercentPerHour;
        Assert.Equal(SignalQuality.Estimated, trend.Quality);
        Assert.InRange(trend.Value, -36.5, -35.5);
    }

    [Fact]
    public void Battery_trend_restarts_when_charging_starts()
    {
        double percent = 50;
        ChargeState state = ChargeState.Discharging;
        var power = new FakeProbe("fake.power", SignalGroup.Power, b => b.Power = new PowerFactors
        {
            Source = Reading.Measured(state == ChargeState.Charging ? PowerSource.Mains : PowerSource.Battery, b.TimeProvider.GetUtcNow(), "fake"),
            ChargeState = Reading.Measured(state, b.TimeProvider.GetUtcNow(), "fake"),
            BatteryPercent = Reading.Measured(percent, b.TimeProvider.GetUtcNow(), "fake"),
        });
        ICostCollector collector = Build(null, power);
        var scheduler = new HistoricalScheduler(_time.GetUtcNow());
        NodeCostFactors? last = null;
        using IDisposable subscription = collector.Observe(scheduler, TimeSpan.FromSeconds(10)).Subscribe(s => last = s);

        for (int i = 0; i < 30; i++)
        {
            percent -= 0.2;
            _time.Advance(TimeSpan.FromSeconds(10));
            scheduler.AdvanceBy(TimeSpan.FromSeconds(10));
        }

        Assert.True(last!.Trends.BatteryPercentPerHour.Value < 0);

        state = ChargeState.Charging;
        percent += 0.5;
        _time.Advance(TimeSpan.FromSeconds(10));
        scheduler.AdvanceBy(TimeSpan.FromSeconds(10));

        Assert.Equal(SignalQuality.Unknown, last.Trends.BatteryPercentPerHour.Quality);
        Assert.Contains("collecting", last.Trends.BatteryPercentPerHour.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_probe_failure_never_ends_the_stream()
    {
        var calls = 0;
        var flaky = new FakeProbe("fake.gpu", SignalGroup.Gpu, _ =>
        {
            if (++calls % 2 == 0)
            {
                throw new InvalidOperationException("driver gone");
            }
        });
        ICostCollector collector = Build(null, flaky);
        var scheduler = new HistoricalScheduler(_time.GetUtcNow());
        var seen = 0;
        Exception? error = null;
        using IDisposable subscription = collector.Observe(scheduler, TimeSpan.FromSeconds(1)).Subscribe(_ => seen++, e => error = e);

        scheduler.AdvanceBy(TimeSpan.FromSeconds(5));

        Assert.Null(error);
        Assert.Equal(6, seen);
    }

    [Fact]
    public void Observe_rejects_a_non_positive_interval() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Build().Observe(ImmediateScheduler.Instance, TimeSpan.Zero));
}
