using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Tests.Scoring;

public sealed class CostTermTests : IDisposable
{
    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static RequestProfile Request(int input = 200, int output = 100, long payload = 0, Urgency urgency = Urgency.Normal) =>
        new("llama-3.1-8b") { InputTokens = input, OutputTokens = output, PayloadBytes = payload, Urgency = urgency };

    [Fact]
    public void Network_latency_is_round_trip_plus_payload_over_the_prior_bandwidth()
    {
        // 1.25 MB at the 10 Mbit/s prior is 1 s, plus the 10 ms observed round trip.
        CostBreakdown cost = _f.Score(ScorerFixture.Node("desk", ScorerFixture.Desktop()), Request(payload: 1_250_000));

        Assert.Equal(1.01, cost.NetworkLatencySeconds, 6);
        Assert.True(cost.Assumptions.HasFlag(CostAssumptions.BandwidthPrior));
    }

    [Fact]
    public void Each_relay_hop_pays_a_round_trip_and_the_transfer_again()
    {
        CostCandidate direct = ScorerFixture.Node("desk", ScorerFixture.Desktop());
        CostBreakdown one = _f.Score(direct, Request(payload: 1_250_000));
        CostBreakdown twoHops = _f.Score(direct with { RelayHops = 2 }, Request(payload: 1_250_000));

        Assert.Equal(3 * one.NetworkLatencySeconds, twoHops.NetworkLatencySeconds, 9);
    }

    [Fact]
    public void Local_node_has_no_network_latency()
    {
        CostBreakdown cost = _f.Score(ScorerFixture.Node("me", ScorerFixture.Desktop(), local: true), Request(payload: 10_000_000));
        Assert.Equal(0, cost.NetworkLatencySeconds);
    }

    [Fact]
    public void Compute_is_prefill_plus_decode_inflated_by_queueing_and_throttling()
    {
        // 200 tokens at 200 tok/s + 100 tokens at 20 tok/s = 6 s of service.
        CostBreakdown idle = _f.Score(ScorerFixture.Node("d", ScorerFixture.Desktop(cpu: 0)), Request());
        Assert.Equal(6, idle.ComputeLatencySeconds, 9);

        // rho 0.5 doubles it: 1 / (1 - 0.5).
        CostBreakdown busy = _f.Score(ScorerFixture.Node("d", ScorerFixture.Desktop(cpu: 0.5)), Request());
        Assert.Equal(12, busy.ComputeLatencySeconds, 9);

        // Half the clock lost to throttling doubles it again.
        NodeCostFactors hot = ScorerFixture.Desktop(cpu: 0.5) with { Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.5, ScorerFixture.Now, "t") } };
        Assert.Equal(24, _f.Score(ScorerFixture.Node("d", hot), Request()).ComputeLatencySeconds, 9);
    }

    [Fact]
    public void Work_placed_on_free_slots_waits_for_nothing_and_past_them_waits_its_turn()
    {
        CostCandidate node = ScorerFixture.Node("d", ScorerFixture.Desktop(cpu: 0), ScorerFixture.Model(slots: 4));

        // Two placed on four slots: a slot is free for this one.
        Assert.Equal(6, _f.Score(node with { PlacedRequests = 2 }, Request()).ComputeLatencySeconds, 9);

        // Six placed: two are queued ahead of it, and it waits for three completions, one every 6 / 4 s.
        Assert.Equal(6 * ((6 + 1) / 4.0), _f.Score(node with { PlacedRequests = 6 }, Request()).ComputeLatencySeconds, 9);
    }

    [Fact]
    public void The_nodes_own_requests_count_as_slots_filled_not_as_contention()
    {
        // Two slots, both serving (CPU reads 1.0 because of them) and one queued: this request waits
        // for two completions, one every 3 s, then runs for 6 s: 12 s, not 1/(1 - 0.95) = 20 times 6 s.
        NodeCostFactors busy = ScorerFixture.Desktop(cpu: 1.0) with
        {
            Pending = new PendingWork { InFlight = Reading.Measured(2, ScorerFixture.Now, "server"), QueueDepth = Reading.Measured(1, ScorerFixture.Now, "server") },
        };
        CostBreakdown cost = _f.Score(ScorerFixture.Node("d", busy, ScorerFixture.Model(slots: 2)), Request());

        Assert.Equal(6 * (1 + ((1 + 1) / 2.0)), cost.ComputeLatencySeconds, 9);
    }

    [Fact]
    public void Load_that_is_not_the_nodes_own_inference_shares_the_processor()
    {
        // 70 % CPU, of which one of four slots (25 %) is its own request: 45 % is other work.
        NodeCostFactors shared = ScorerFixture.Desktop(cpu: 0.7) with
        {
            Pending = new PendingWork { InFlight = Reading.Measured(1, ScorerFixture.Now, "server"), QueueDepth = Reading.Measured(0, ScorerFixture.Now, "server") },
        };
        CostBreakdown cost = _f.Score(ScorerFixture.Node("d", shared, ScorerFixture.Model(slots: 4)), Request());

        Assert.Equal(6 / (1 - 0.45), cost.ComputeLatencySeconds, 9);
    }

    [Fact]
    public void Saturation_is_capped_not_infinite()
    {
        // Unknown in-flight work: all of the load counts as contention, capped at MaxUtilization.
        CostCandidate node = ScorerFixture.Node("d", ScorerFixture.Desktop(cpu: 1.0)) with { PlacedRequests = 50 };
        CostBreakdown cost = _f.Score(node, Request());

        // One slot, 50 placed ahead: 51 service times, each stretched by the capped contention.
        Assert.Equal(6 * 51 / (1 - ScoringDefaults.MaxUtilization), cost.ComputeLatencySeconds, 6);
        Assert.True(double.IsFinite(cost.TotalDollars));
    }

    [Fact]
    public void Energy_on_mains_is_watts_times_time_times_the_electricity_price()
    {
        // 65 W prior for 6 s = 390 J = 1.0833e-4 kWh at 0.17 $/kWh.
        CostBreakdown cost = _f.Score(ScorerFixture.Node("d", ScorerFixture.Desktop()), Request());

        Assert.Equal(65 * 6 / 3.6e6 * 0.17, cost.EnergyDollars, 12);
        Assert.True(cost.Assumptions.HasFlag(CostAssumptions.PowerDrawPrior));
    }

    [Fact]
    public void A_battery_with_the_energy_saver_on_is_priced_no_higher_than_the_saver_threshold()
    {
        static NodeCostFactors Laptop(double percent, Reading<bool> saver)
        {
            NodeCostFactors laptop = ScorerFixture.Laptop("l", percent, ChargeState.Discharging, percentPerHour: 0);
            return laptop with { Power = laptop.Power with { EnergySaver = saver } };
        }

        double Energy(double percent, Reading<bool> saver) => _f.Score(ScorerFixture.Node("l", Laptop(percent, saver)), Request()).EnergyDollars;

        Reading<bool> on = Reading.Measured(true, ScorerFixture.Now, "SystemStatusFlag");
        Reading<bool> off = Reading.Measured(false, ScorerFixture.Now, "SystemStatusFlag");
        Reading<bool> unknown = Reading.Unknown<bool>("not read", ScorerFixture.Now);
        double threshold = ScoringDefaults.EnergySaverBatteryPercent;

        // At 90 % with the saver on, the charge is priced as the saver's threshold would be.
        Assert.Equal(Energy(threshold, off), Energy(90, on), 12);
        Assert.True(Energy(90, on) > Energy(90, off));

        // Off or unknown changes nothing; below the threshold the real charge is already scarcer.
        Assert.Equal(Energy(90, off), Energy(90, unknown), 12);
        Assert.Equal(Energy(threshold - 5, off), Energy(threshold - 5, on), 12);

        // A stale "on" is not trusted.
        Reading<bool> stale = Reading.Measured(true, ScorerFixture.Now - TimeSpan.FromHours(1), "SystemStatusFlag");
        Assert.Equal(Energy(90, off), Energy(90, stale), 12);
    }

    [Fact]
    public void Gpu_power_is_the_draw_when_reported()
    {
        NodeCostFactors box = ScorerFixture.Desktop() with
        {
            Gpu = new GpuFactors
            {
                DeviceCount = Reading.Measured(1, ScorerFixture.Now, "nvml"),
                Devices = [new GpuDevice { Name = "H100", Vendor = GpuVendor.Nvidia, Utilization = Reading.Measured(0.0, ScorerFixture.Now, "nvml"), PowerWatts = Reading.Measured(300.0, ScorerFixture.Now, "nvml") }],
            },
        };

        CostBreakdown cost = _f.Score(ScorerFixture.Node("box", box), Request());

        Assert.Equal(300 * 6 / 3.6e6 * 0.17, cost.EnergyDollars, 12);
        Assert.False(cost.Assumptions.HasFlag(CostAssumptions.PowerDrawPrior));
    }

    [Fact]
    public void Metered_traffic_is_bytes_times_the_price_per_gigabyte()
    {
        NodeCostFactors tethered = ScorerFixture.Desktop() with { Network = new NetworkFactors { Metered = Reading.Measured(true, ScorerFixture.Now, "nm") } };
        CostBreakdown cost = _f.Score(ScorerFixture.Node("t", tethered), Request(payload: 500_000_000));

        Assert.Equal(5.0, cost.NetworkDollars, 9);
    }

    [Fact]
    public void Api_money_is_tokens_times_the_price_per_million()
    {
        var endpoint = new CostCandidate { TargetId = "api", Model = ScorerFixture.Model(decode: 100, prefill: 5000), Price = new TokenPrice(3, 15) };
        CostBreakdown cost = _f.Score(endpoint, Request(input: 1_000_000, output: 1_000_000));

        Assert.Equal(18, cost.ApiDollars, 9);
        Assert.Equal(0, cost.EnergyDollars);
    }

    [Fact]
    public void Total_converts_latency_to_dollars_through_the_value_of_time()
    {
        CostBreakdown normal = _f.Score(ScorerFixture.Node("d", ScorerFixture.Desktop()), Request());
        Assert.Equal(ScoringDefaults.NormalValueOfTimeDollarsPerSecond, normal.ValueOfTimeDollarsPerSecond);
        Assert.Equal((normal.LatencySeconds * 0.01) + normal.EnergyDollars + normal.NetworkDollars, normal.TotalDollars, 12);

        CostBreakdown overridden = _f.Score(ScorerFixture.Node("d", ScorerFixture.Desktop()), Request() with { ValueOfTimeDollarsPerSecond = 1 });
        Assert.Equal(1, overridden.ValueOfTimeDollarsPerSecond);
        Assert.Equal(ScoringDefaults.BackgroundValueOfTimeDollarsPerSecond, _f.Score(ScorerFixture.Node("d", ScorerFixture.Desktop()), Request(urgency: Urgency.Background)).ValueOfTimeDollarsPerSecond);
    }

    [Fact]
    public void Mesh_setting_overrides_the_system_default_and_the_request_overrides_both()
    {
        using var mesh = new ScorerFixture(o => o.NormalValueOfTimeDollarsPerSecond = 0.5);
        Assert.Equal(0.5, mesh.Score(ScorerFixture.Node("d", ScorerFixture.Desktop()), Request()).ValueOfTimeDollarsPerSecond);
        Assert.Equal(0.2, mesh.Score(ScorerFixture.Node("d", ScorerFixture.Desktop()), Request() with { ValueOfTimeDollarsPerSecond = 0.2 }).ValueOfTimeDollarsPerSecond);
    }

    [Fact]
    public void Quality_preference_is_a_priced_credit_and_the_floor_is_a_filter()
    {
        CostCandidate node = ScorerFixture.Node("d", ScorerFixture.Desktop());
        CostBreakdown preferring = _f.Score(node, Request() with { DollarsPerBillionParameters = 0.01, DollarsPerQuantizationBit = 0.001 });
        Assert.Equal(-((0.01 * 8) + (0.001 * 4.5)), preferring.QualityDollars, 12);

        Assert.Equal(CostExclusion.QualityFloor, _f.Score(node, Request() with { MinParameterBillions = 70 }).Exclusion);
        Assert.Equal(CostExclusion.QualityFloor, _f.Score(node, Request() with { MinQuantizationBits = 8 }).Exclusion);
        Assert.Equal(CostExclusion.None, _f.Score(node, Request() with { MinParameterBillions = 7, MinQuantizationBits = 4 }).Exclusion);

        CostCandidate unknownSize = node with { Model = new ServedModel("mystery") };
        Assert.Equal(CostExclusion.QualityFloor, _f.Score(unknownSize, Request() with { MinParameterBillions = 1 }).Exclusion);

        // Unknown is not zero: a floor of zero is met by an advertised zero, never by an unknown size or precision.
        CostCandidate zero = node with { Model = new ServedModel("zero") { ParameterBillions = 0, QuantizationBits = 1 } };
        Assert.Equal(CostExclusion.None, _f.Score(zero, Request() with { MinParameterBillions = 0, MinQuantizationBits = 0 }).Exclusion);
        Assert.Equal(CostExclusion.QualityFloor, _f.Score(unknownSize, Request() with { MinParameterBillions = 0 }).Exclusion);
        Assert.Equal(CostExclusion.QualityFloor, _f.Score(unknownSize, Request() with { MinQuantizationBits = 0 }).Exclusion);
    }

    [Fact]
    public void Maximum_price_per_request_filters_rather_than_prices()
    {
        var endpoint = new CostCandidate { TargetId = "api", Model = ScorerFixture.Model(), Price = new TokenPrice(3, 15) };
        Assert.Equal(CostExclusion.OverBudget, _f.Score(endpoint, Request(input: 100_000, output: 10_000) with { MaxDollarsPerRequest = 0.1 }).Exclusion);
        Assert.Equal(CostExclusion.None, _f.Score(endpoint, Request(input: 1_000, output: 1_000) with { MaxDollarsPerRequest = 0.1 }).Exclusion);

        using var mesh = new ScorerFixture(o => o.MaxDollarsPerRequest = 0.1);
        Assert.Equal(CostExclusion.OverBudget, mesh.Score(endpoint, Request(input: 100_000, output: 10_000)).Exclusion);
        Assert.Equal(CostExclusion.None, mesh.Score(endpoint, Request(input: 100_000, output: 10_000) with { MaxDollarsPerRequest = 10 }).Exclusion);
    }

    [Fact]
    public void Operator_node_overrides_win_over_what_the_node_reports()
    {
        using var f = new ScorerFixture(o => o.Nodes["desk"] = new NodeScoringOverride { Metered = true, ElectricityDollarsPerKilowattHour = 0.5 });
        CostBreakdown cost = f.Score(ScorerFixture.Node("desk", ScorerFixture.Desktop("desk")), Request(payload: 1_000_000_000));

        Assert.Equal(10, cost.NetworkDollars, 9);
        Assert.Equal(65 * cost.ComputeLatencySeconds / 3.6e6 * 0.5, cost.EnergyDollars, 12);
    }

    [Fact]
    public void Excluding_metered_links_is_honoured()
    {
        NodeCostFactors tethered = ScorerFixture.Desktop() with { Network = new NetworkFactors { Metered = Reading.Measured(true, ScorerFixture.Now, "nm") } };
        Assert.Equal(CostExclusion.Metered, _f.Score(ScorerFixture.Node("t", tethered), Request() with { ExcludeMetered = true }).Exclusion);
        Assert.Equal(CostExclusion.None, _f.Score(ScorerFixture.Node("d", ScorerFixture.Desktop()), Request() with { ExcludeMetered = true }).Exclusion);
    }
}
