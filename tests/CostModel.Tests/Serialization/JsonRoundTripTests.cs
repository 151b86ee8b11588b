using System.Text.Json;
using System.Text.Json.Nodes;
using CostModel.Factors;
using CostModel.Serialization;

namespace CostModel.Tests.Serialization;

public sealed class JsonRoundTripTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 27, 12, 0, 0, 123, TimeSpan.Zero);

    internal static NodeCostFactors FullSnapshot() => new("laptop-1", 1_764_244_800_000, 42, At.AddSeconds(1))
    {
        Power = new PowerFactors
        {
            Source = Reading.Measured(PowerSource.Battery, At, "/sys/class/power_supply/AC/online"),
            BatteryCount = Reading.Measured(2, At, "/sys/class/power_supply"),
            BatteryPercent = Reading.Measured(15.5, At, "energy_now/energy_full"),
            ChargeState = Reading.Measured(ChargeState.Discharging, At, "status"),
            BatteryRateWatts = Reading.Measured(18.25, At, "power_now"),
            RemainingWattHours = Reading.Measured(8.5, At, "energy_now"),
            FullWattHours = Reading.Measured(55.0, At, "energy_full"),
            TimeToEmptySeconds = Reading.Estimated(1676.0, At, "energy / rate"),
            TimeToFullSeconds = Reading.NotSupported<double>("discharging", At),
            EnergySaver = Reading.Measured(true, At, "power-profiles-daemon"),
        },
        Compute = new ComputeFactors
        {
            CpuUtilization = Reading.Measured(0.625, At, "/proc/stat"),
            EffectiveCores = Reading.Measured(0.5, At, "cpu.max"),
            LoadPerCore = Reading.Measured(1.25, At, "/proc/loadavg"),
            CpuPressure = Reading.NotSupported<double>("no /proc/pressure on this kernel", At),
            MemoryPressure = Reading.Unknown<double>("EACCES", At),
            MemoryUsedBytes = Reading.Measured(8L << 30, At, "/proc/meminfo"),
            MemoryAvailableBytes = Reading.Measured(4L << 30, At, "/proc/meminfo"),
            MemoryTotalBytes = Reading.Measured(12L << 30, At, "/proc/meminfo"),
        },
        Gpu = new GpuFactors
        {
            DeviceCount = Reading.Measured(1, At, "nvml"),
            Devices =
            [
                new GpuDevice
                {
                    Index = 0,
                    Vendor = GpuVendor.Nvidia,
                    Name = "NVIDIA H100 80GB HBM3",
                    Utilization = Reading.NotSupported<double>("MIG mode", At),
                    MemoryUsedBytes = Reading.Measured(1L << 30, At, "nvml"),
                    MemoryTotalBytes = Reading.Measured(80L << 30, At, "nvml"),
                    TemperatureCelsius = Reading.Measured(41.0, At, "nvml"),
                    PowerWatts = Reading.Measured(71.5, At, "nvml"),
                    Throttled = Reading.Measured(false, At, "nvml"),
                },
            ],
        },
        Thermal = new ThermalFactors
        {
            Level = Reading.Measured(ThermalLevel.Serious, At, "thermal_zone0"),
            ThrottleRatio = Reading.Measured(0.3, At, "cpufreq"),
            HottestCelsius = Reading.Measured(97.0, At, "thermal_zone0"),
            ThrottleEvents = Reading.Measured(12L, At, "thermal_throttle"),
        },
        Network = new NetworkFactors
        {
            DefaultInterface = "wlan0",
            Metered = Reading.Overridden(true, At, "CostModel:Collection:Metered"),
            ReceiveBytesPerSecond = Reading.Measured(1200.0, At, "/proc/net/dev"),
            TransmitBytesPerSecond = Reading.Measured(300.0, At, "/proc/net/dev"),
            BandwidthBitsPerSecond = Reading.Estimated(10e6, At, "prior"),
            BandwidthSampleCount = 0,
        },
        Container = new ContainerFactors
        {
            Layout = CgroupLayout.Hybrid,
            CpuLimitCores = Reading.Measured(ResourceLimit.Of(0.5), At, "cpu.cfs_quota_us"),
            MemoryLimitBytes = Reading.Measured(ResourceLimit.Unlimited, At, "memory.limit_in_bytes"),
            MemoryWorkingSetBytes = Reading.Measured(123_456L, At, "memory.stat"),
            ThrottledPeriods = Reading.Measured(7L, At, "cpu.stat"),
            ThrottledShare = Reading.Measured(0.7, At, "cpu.stat"),
        },
        Pending = new PendingWork { QueueDepth = Reading.Measured(3, At, "host"), InFlight = Reading.Measured(1, At, "host"), ArrivalsPerSecond = Reading.Estimated(2.5, At, "host") },
        Trends = new TrendFactors
        {
            BatteryPercentPerHour = Reading.Estimated(-24.0, At, "slope"),
            LoadSlopePerMinute = Reading.Unknown<double>("collecting", At),
        },
    };

    [Fact]
    public void Snapshot_round_trips_with_quality_time_and_source()
    {
        NodeCostFactors original = FullSnapshot();

        NodeCostFactors copy = CostModelJson.DeserializeFactors(CostModelJson.Serialize(original));

        Assert.Equal(original.NodeId, copy.NodeId);
        Assert.Equal(original.Generation, copy.Generation);
        Assert.Equal(original.Version, copy.Version);
        Assert.Equal(original.CapturedAt, copy.CapturedAt);
        Assert.Equal(original.Power, copy.Power);
        Assert.Equal(original.Compute, copy.Compute);
        Assert.Equal(original.Thermal, copy.Thermal);
        Assert.Equal(original.Network, copy.Network);
        Assert.Equal(original.Container, copy.Container);
        Assert.Equal(original.Pending, copy.Pending);
        Assert.Equal(original.Trends, copy.Trends);
        Assert.Equal(original.Gpu.DeviceCount, copy.Gpu.DeviceCount);
        Assert.Equal(original.Gpu.Devices[0], copy.Gpu.Devices[0]);
        Assert.Equal(SignalQuality.Overridden, copy.Network.Metered.Quality);
        Assert.Equal("MIG mode", copy.Gpu.Devices[0].Utilization.Reason);
    }

    [Fact]
    public void Json_uses_the_documented_shape()
    {
        JsonNode json = JsonNode.Parse(CostModelJson.Serialize(FullSnapshot()))!;

        Assert.Equal("laptop-1", (string?)json["nodeId"]);
        JsonNode percent = json["power"]!["batteryPercent"]!;
        Assert.Equal("measured", (string?)percent["quality"]);
        Assert.Equal(15.5, (double)percent["value"]!);
        Assert.Equal("energy_now/energy_full", (string?)percent["source"]);
        Assert.Equal(At, DateTimeOffset.Parse((string)percent["observedAt"]!, System.Globalization.CultureInfo.InvariantCulture));

        JsonNode pressure = json["compute"]!["cpuPressure"]!;
        Assert.Equal("notSupported", (string?)pressure["quality"]);
        Assert.Null(pressure["value"]);
        Assert.Equal("no /proc/pressure on this kernel", (string?)pressure["reason"]);

        Assert.Equal("battery", (string?)json["power"]!["source"]!["value"]);
        Assert.Equal("unlimited", (string?)json["container"]!["memoryLimitBytes"]!["value"]);
        Assert.Equal(0.5, (double)json["container"]!["cpuLimitCores"]!["value"]!);
        Assert.Equal("hybrid", (string?)json["container"]!["layout"]);
    }

    [Fact]
    public void Out_of_range_value_in_json_is_a_json_error()
    {
        string json = CostModelJson.Serialize(FullSnapshot()).Replace("15.5", "150.5", StringComparison.Ordinal);
        JsonException error = Assert.Throws<JsonException>(() => CostModelJson.DeserializeFactors(json));
        Assert.Contains("BatteryPercent", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("arrivalsPerSecond", "-1")]
    [InlineData("arrivalsPerSecond", "20000")]
    [InlineData("arrivalsPerSecond", "1e400")]
    [InlineData("routedPerSecond", "-1")]
    [InlineData("routedPerSecond", "20000")]
    [InlineData("routedPerSecond", "1e400")]
    public void An_absurd_rate_in_json_is_a_json_error(string rate, string value)
    {
        string json = """{"nodeId":"n","generation":1,"version":1,"capturedAt":"2026-11-27T12:00:00Z","pending":{"RATE":{"quality":"estimated","value":VALUE,"observedAt":"2026-11-27T12:00:00Z"}}}"""
            .Replace("RATE", rate, StringComparison.Ordinal).Replace("VALUE", value, StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => CostModelJson.DeserializeFactors(json));
    }

    [Fact]
    public void An_arrival_rate_in_json_reads_back()
    {
        NodeCostFactors copy = CostModelJson.DeserializeFactors("""{"nodeId":"n","generation":1,"version":1,"capturedAt":"2026-11-27T12:00:00Z","pending":{"arrivalsPerSecond":{"quality":"estimated","value":4.5,"observedAt":"2026-11-27T12:00:00Z"}}}""");
        Assert.Equal(4.5, copy.Pending.ArrivalsPerSecond.Value);
    }

    [Fact]
    public void A_routed_rate_and_a_node_without_a_router_round_trip_through_json()
    {
        DateTimeOffset at = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        var gateway = new NodeCostFactors("gw", 1, 1, at) { Pending = new PendingWork { RoutedPerSecond = Reading.Estimated(0.25, at, "router") } };
        var server = new NodeCostFactors("srv", 1, 1, at) { Pending = new PendingWork { RoutedPerSecond = Reading.NotSupported<double>("no router on this node", at) } };

        Assert.Equal(gateway, CostModelJson.DeserializeFactors(CostModelJson.Serialize(gateway)));
        NodeCostFactors copy = CostModelJson.DeserializeFactors(CostModelJson.Serialize(server));
        Assert.Equal(SignalQuality.NotSupported, copy.Pending.RoutedPerSecond.Quality);
        Assert.Equal(server, copy);
    }

    [Theory]
    [InlineData("""{"quality":"measured"}""", "needs a value")]
    [InlineData("""{"quality":"unknown","value":3}""", "must not carry a value")]
    [InlineData("""{"value":3}""", "needs a quality")]
    [InlineData("""{"quality":"measured","value":"NaN"}""", "")]
    public void Malformed_readings_are_rejected(string reading, string expected)
    {
        string json = """{"nodeId":"n","generation":1,"version":1,"capturedAt":"2026-11-27T12:00:00Z","compute":{"cpuUtilization":READING}}""".Replace("READING", reading, StringComparison.Ordinal);
        JsonException error = Assert.Throws<JsonException>(() => CostModelJson.DeserializeFactors(json));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reading_left_unset_round_trips_equal()
    {
        // The JSON writes an unset reading's reason ("not collected"); reading it back must give a
        // reading equal to the unset one, or a snapshot with a reading nobody filled in would not
        // round-trip equal (a new reading added to a group, left unset in a test's snapshot).
        var original = new PowerFactors { BatteryPercent = Reading.Measured(40.0, At, "test") };

        NodeCostFactors copy = CostModelJson.DeserializeFactors(CostModelJson.Serialize(new NodeCostFactors("n", 1, 2, At) { Power = original }));

        Assert.Equal(original.BatteryRateWatts, copy.Power.BatteryRateWatts);
        Assert.Equal(original, copy.Power);
    }

    [Theory]
    [InlineData("nodeId")]
    [InlineData("generation")]
    [InlineData("version")]
    [InlineData("capturedAt")]
    public void A_snapshot_without_its_identity_or_time_is_refused_naming_the_field(string field)
    {
        // Found by fuzzing (benchmarks/CostModel.Fuzz, the JSON target): capabilities' JSON read as
        // a snapshot of generation 0 captured at year 1, which every gossip peer then refused.
        JsonObject json = JsonNode.Parse("""{"nodeId":"n","generation":1,"version":2,"capturedAt":"2026-11-27T12:00:00Z"}""")!.AsObject();
        Assert.NotNull(CostModelJson.DeserializeFactors(json.ToJsonString()));
        json.Remove(field);

        JsonException error = Assert.Throws<JsonException>(() => CostModelJson.DeserializeFactors(json.ToJsonString()));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nodeId")]
    [InlineData("version")]
    public void Capabilities_without_their_node_or_version_are_refused_naming_the_field(string field)
    {
        JsonObject json = JsonNode.Parse("""{"nodeId":"n","version":3,"models":[{"modelId":"m"}]}""")!.AsObject();
        Assert.NotNull(CostModelJson.DeserializeCapabilities(json.ToJsonString()));
        json.Remove(field);

        JsonException error = Assert.Throws<JsonException>(() => CostModelJson.DeserializeCapabilities(json.ToJsonString()));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_groups_read_back_as_unknown()
    {
        NodeCostFactors copy = CostModelJson.DeserializeFactors("""{"nodeId":"n","generation":1,"version":2,"capturedAt":"2026-11-27T12:00:00Z"}""");
        Assert.Equal(SignalQuality.Unknown, copy.Power.BatteryPercent.Quality);
        Assert.Equal("not collected", copy.Power.BatteryPercent.Reason);
    }

    [Fact]
    public void Capabilities_round_trip()
    {
        var caps = new NodeCapabilities("desk", 3)
        {
            Models = [new ServedModel("llama-3.1-8b") { ParameterBillions = 8, QuantizationBits = 4.5, ContextTokens = 8192, DecodeTokensPerSecond = 40 }],
            Relays = [new RelayRoute("qwen-72b", "gpu-box", 2)],
        };

        NodeCapabilities copy = CostModelJson.DeserializeCapabilities(CostModelJson.Serialize(caps));

        Assert.Equal(caps.NodeId, copy.NodeId);
        Assert.Equal(caps.Version, copy.Version);
        Assert.Equal(caps.Models[0], copy.Models[0]);
        Assert.Equal(caps.Relays[0], copy.Relays[0]);
    }
}
