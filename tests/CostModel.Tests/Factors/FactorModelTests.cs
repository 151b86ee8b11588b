using System.Collections.Immutable;
using CostModel.Factors;

namespace CostModel.Tests.Factors;

public sealed class FactorModelTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_new_snapshot_has_every_factor_unknown_not_zero()
    {
        var snapshot = new NodeCostFactors("laptop-1", 1, 1, At);

        Assert.Equal(SignalQuality.Unknown, snapshot.Power.BatteryPercent.Quality);
        Assert.Equal(SignalQuality.Unknown, snapshot.Compute.CpuUtilization.Quality);
        Assert.Equal(SignalQuality.Unknown, snapshot.Thermal.Level.Quality);
        Assert.Equal(SignalQuality.Unknown, snapshot.Network.Metered.Quality);
        Assert.Equal(SignalQuality.Unknown, snapshot.Container.CpuLimitCores.Quality);
        Assert.Equal(SignalQuality.Unknown, snapshot.Gpu.DeviceCount.Quality);
        Assert.Empty(snapshot.Gpu.Devices);
        Assert.Throws<InvalidOperationException>(() => snapshot.Compute.CpuUtilization.Value);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(100.01)]
    public void Battery_percent_outside_0_to_100_is_rejected(double percent)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(
            () => new PowerFactors { BatteryPercent = Reading.Measured(percent, At, "test") });
        Assert.Equal(nameof(PowerFactors.BatteryPercent), error.ParamName);
    }

    [Fact]
    public void Out_of_range_checks_apply_only_to_readings_with_values()
    {
        var power = new PowerFactors { BatteryPercent = Reading.Unknown<double>("EIO", At) };
        Assert.False(power.BatteryPercent.HasValue);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.01)]
    public void Utilisation_outside_0_to_1_is_rejected(double value) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ComputeFactors { CpuUtilization = Reading.Measured(value, At, "t") });

    [Fact]
    public void Absurd_temperatures_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThermalFactors { HottestCelsius = Reading.Measured(-273.0, At, "t") });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ThermalFactors { HottestCelsius = Reading.Measured(400.0, At, "t") });
        Assert.Equal(95.0, new ThermalFactors { HottestCelsius = Reading.Measured(95.0, At, "t") }.HottestCelsius.Value);
    }

    [Fact]
    public void Negative_counts_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PendingWork { QueueDepth = Reading.Measured(-1, At, "t") });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContainerFactors { ThrottledPeriods = Reading.Measured(-1L, At, "t") });
        Assert.Throws<ArgumentOutOfRangeException>(() => new NodeCostFactors("n", -1, 0, At));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("bad\nid")]
    public void Node_id_must_be_printable_text(string id) =>
        Assert.ThrowsAny<ArgumentException>(() => new NodeCostFactors(id, 0, 0, At));

    [Fact]
    public void Node_id_longer_than_the_wire_bound_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NodeCostFactors(new string('n', NodeCostFactors.MaxNodeIdLength + 1), 0, 0, At));

    [Fact]
    public void With_expressions_are_validated_too()
    {
        var compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.5, At, "t") };
        Assert.Throws<ArgumentOutOfRangeException>(() => compute with { CpuUtilization = Reading.Measured(2.0, At, "t") });
    }

    [Fact]
    public void A_null_group_means_nothing_known()
    {
        var snapshot = new NodeCostFactors("n", 0, 0, At) { Power = null! };
        Assert.NotNull(snapshot.Power);
        Assert.Equal(SignalQuality.Unknown, snapshot.Power.Source.Quality);
    }

    [Fact]
    public void Capabilities_are_bounded_and_validated()
    {
        var model = new ServedModel("llama-3.1-8b") { ParameterBillions = 8, QuantizationBits = 4.5, ContextTokens = 8192 };
        var caps = new NodeCapabilities("desk", 3) { Models = [model], Relays = [new RelayRoute("qwen-72b", "gpu-box", 1)] };
        Assert.Single(caps.Models);

        ImmutableArray<ServedModel> tooMany = [.. Enumerable.Range(0, NodeCapabilities.MaxModels + 1).Select(i => new ServedModel($"m{i}"))];
        Assert.Throws<ArgumentOutOfRangeException>(() => new NodeCapabilities("desk", 1) { Models = tooMany });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RelayRoute("m", "via", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RelayRoute("m", "via", RelayRoute.MaxHops + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServedModel("m") { QuantizationBits = 0.5 });
    }

    [Fact]
    public void An_identity_with_a_lone_surrogate_is_refused_naming_where()
    {
        // Gossip (UTF-8) and JSON would carry it as U+FFFD: another id than the one the node holds.
        // Cases in code, not InlineData: xUnit's serialised theory data turns a lone surrogate into U+FFFD.
        foreach ((string id, int index) in new[] { ("desk-\uD800", 5), ("\uDC00desk", 0), ("desk-\uDC00\uD800", 5), ("\uD83D\uDE00\uD800", 2) })
        {
            ArgumentException nodeError = Assert.Throws<ArgumentException>(() => new NodeCostFactors(id, 0, 0, At));
            Assert.Contains($"a lone surrogate at index {index}", nodeError.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => new NodeCapabilities(id, 1));
            Assert.Throws<ArgumentException>(() => new ServedModel(id));
            Assert.Throws<ArgumentException>(() => new RelayRoute("m", id, 1));
        }
    }

    [Fact]
    public void An_identity_with_a_surrogate_pair_is_taken()
    {
        var snapshot = new NodeCostFactors("desk-\U0001F600", 0, 0, At);
        Assert.Equal("desk-\U0001F600", snapshot.NodeId);
        Assert.Equal("\U0001F600", new ServedModel("\U0001F600").ModelId);
    }

    [Fact]
    public void Text_read_from_the_OS_is_kept_well_formed_and_survives_a_JSON_round_trip()
    {
        // A driver's name or a reason quoting a file may hold a lone surrogate (a CFString, a WCHAR
        // buffer); JSON writes U+FFFD for it, so the model keeps U+FFFD from the start.
        var snapshot = new NodeCostFactors("desk", 1, 1, At)
        {
            Gpu = new GpuFactors { DeviceCount = Reading.Measured(1, At, "t"), Devices = [new GpuDevice { Name = "GPU \uDC00 x", Utilization = Reading.Unknown<double>("driver said \uD800!", At) }] },
            Network = new NetworkFactors { DefaultInterface = "en\uD8000", Metered = Reading.Measured(false, At, "source \uDFFF") },
        };

        GpuDevice device = snapshot.Gpu.Devices[0];
        Assert.Equal("GPU \uFFFD x", device.Name);
        Assert.Equal("driver said \uFFFD!", device.Utilization.Reason);
        Assert.Equal("en\uFFFD0", snapshot.Network.DefaultInterface);
        Assert.Equal("source \uFFFD", snapshot.Network.Metered.Source);
        Assert.Equal("pair \U0001F600 kept", Reading.Unknown<double>("pair \U0001F600 kept", At).Reason);

        NodeCostFactors copy = CostModel.Serialization.CostModelJson.DeserializeFactors(CostModel.Serialization.CostModelJson.Serialize(snapshot));
        Assert.Equal(snapshot.Gpu.Devices[0], copy.Gpu.Devices[0]);
        Assert.Equal(snapshot.Network, copy.Network);
    }
}
