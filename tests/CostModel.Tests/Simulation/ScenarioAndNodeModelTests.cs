using CostModel.Factors;
using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>Scenario files (loading, validation, clear errors) and the node model's physics.</summary>
public sealed class ScenarioAndNodeModelTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_built_in_scenarios_are_listed_and_load()
    {
        Assert.Contains("home-mesh", Scenario.BuiltInNames);
        Assert.True(Scenario.BuiltInNames.Count >= 9);
        foreach (string name in Scenario.BuiltInNames)
        {
            Scenario s = Scenario.BuiltIn(name);
            Assert.Equal(name, s.Name);
            Assert.NotEmpty(s.Nodes);
        }
    }

    [Fact]
    public void A_scenario_survives_a_round_trip_through_its_json()
    {
        Scenario original = Scenario.BuiltIn("stale-partition");
        Scenario again = Scenario.Parse(original.ToJson());
        Assert.Equal(original.ToJson(), again.ToJson());
        Assert.Equal(ScenarioEventKind.Partition, again.Events[0].Kind);
    }

    [Fact]
    public void A_minimal_scenario_gets_the_documented_defaults()
    {
        Scenario s = Scenario.Parse("""{ "name": "one", "nodes": [ { "id": "a", "models": [ { "id": "llama-3.1-8b" } ] } ] }""");
        Assert.Equal(SimulationDefaults.DurationSeconds, s.DurationSeconds);
        Assert.Equal(SimulationDefaults.DecodeTokensPerSecond, s.Nodes[0].Models[0].DecodeTokensPerSecond);
        Assert.Equal(1, s.Nodes[0].Models[0].ParallelSlots);
        Assert.True(s.Nodes[0].Power.PluggedIn);
        SimulationResult r = MeshSimulator.Run(s, RoutingPolicies.CostModel, 1);
        Assert.True(r.Metrics.CompletedRequests > 0);
    }

    [Theory]
    [InlineData("""{ "name": "x", "nodes": [] }""", "nodes: at least one node")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "m", "decodeTokensPerSecond": -1 } ] } ] }""", "nodes[0].models[0].decodeTokensPerSecond")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" }, { "id": "a" } ] }""", "used twice")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 5, "kind": "unplug", "node": "a" } ] }""", "no battery")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 5, "kind": "crash", "node": "b" } ] }""", "events[0].node: 'b' is not a node")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "workload": { "inputTokens": { "min": 10, "max": 1 } } }""", "workload.inputTokens")]
    [InlineData("""{ "name": "x", "nodez": [] }""", "nodez")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 5, "kind": "explode", "node": "a" } ] }""", "not a valid scenario")]
    [InlineData("""{ "name": 3 """, "not a valid scenario")]
    public void A_bad_scenario_fails_with_a_message_that_says_where(string json, string expected)
    {
        ScenarioException ex = Assert.Throws<ScenarioException>(() => Scenario.Parse(json, "test.json"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_costmodel_options_fail_as_a_scenario_error()
    {
        Scenario s = Scenario.Parse("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "llama-3.1-8b" } ] } ], "costModel": { "Routing": { "HysteresisBand": -1 } } }""");
        ScenarioException ex = Assert.Throws<ScenarioException>(() => MeshSimulator.Run(s, RoutingPolicies.CostModel, 1));
        Assert.Contains("HysteresisBand", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_battery_drains_at_its_draw_and_charges_at_its_charge_rate()
    {
        var spec = new SimulatedNode
        {
            Id = "laptop",
            BaseLoad = 0,
            Models = [new SimulatedModel { Id = "m", ParallelSlots = 2 }],
            Power = new SimulatedPower { BatteryWattHours = 60, BatteryPercent = 50, PluggedIn = false, IdleWatts = 10, ActiveWatts = 50, ChargeWatts = 30 },
        };
        var node = new NodeModel(spec, "m", T0, 1);
        node.Update(T0.AddHours(0.5));                 // idle: 10 W for half an hour = 5 Wh
        Assert.Equal(25, node.ChargeWattHours, 9);
        Assert.Equal(5, node.DrainedWattHours, 9);
        node.Running = 1;                              // half the slots: 30 W
        node.Update(T0.AddHours(0.75));                // 7.5 Wh more
        Assert.Equal(17.5, node.ChargeWattHours, 9);
        node.SetPluggedIn(true);
        node.Update(T0.AddHours(1));                   // charging at 30 W: +7.5 Wh
        Assert.Equal(25, node.ChargeWattHours, 9);
        Assert.Equal(12.5, node.DrainedWattHours, 9);
    }

    [Fact]
    public void A_battery_that_runs_empty_turns_the_node_off()
    {
        var spec = new SimulatedNode { Id = "l", Power = new SimulatedPower { BatteryWattHours = 1, BatteryPercent = 100, PluggedIn = false, IdleWatts = 10 } };
        var node = new NodeModel(spec, "m", T0, 1);
        Assert.True(node.Update(T0.AddMinutes(7)));    // 1 Wh at 10 W lasts 6 minutes
        Assert.True(node.IsDown);
        Assert.Equal(1, node.DrainedWattHours, 9);
    }

    [Fact]
    public void Heat_follows_load_and_throttles_above_its_threshold()
    {
        var spec = new SimulatedNode
        {
            Id = "desk",
            BaseLoad = 0,
            Models = [new SimulatedModel { Id = "m", PrefillTokensPerSecond = 100, DecodeTokensPerSecond = 10 }],
            Thermal = new SimulatedThermal { TimeConstantSeconds = 60, ThrottleAbove = 0.5, MaxThrottleRatio = 0.4 },
        };
        var node = new NodeModel(spec, "m", T0, 1);
        Assert.Equal(0, node.ThrottleRatio);
        Assert.Equal(2, node.ServiceSeconds(100, 10), 9);   // 1 s prefill + 1 s decode
        node.Running = 1;
        node.Update(T0.AddSeconds(30));                      // heat 1 - e^-0.5 = 0.39: below the threshold
        Assert.Equal(1 - Math.Exp(-0.5), node.Heat, 9);
        Assert.Equal(0, node.ThrottleRatio);
        node.Update(T0.AddSeconds(600));                     // ten time constants: saturated
        Assert.Equal(0.4, node.ThrottleRatio, 3);
        Assert.Equal(2 / 0.6, node.ServiceSeconds(100, 10), 2);
        node.Running = 0;
        node.Update(T0.AddSeconds(1200));                    // cooled down
        Assert.Equal(0, node.ThrottleRatio);
    }

    [Fact]
    public void A_slow_fault_divides_the_token_rates()
    {
        var node = new NodeModel(new SimulatedNode { Id = "d", BaseLoad = 0, Models = [new SimulatedModel { Id = "m", PrefillTokensPerSecond = 100, DecodeTokensPerSecond = 10 }] }, "m", T0, 1);
        node.Fault = NodeFault.Slow;
        node.SlowFactor = 4;
        Assert.Equal(8, node.ServiceSeconds(100, 10), 9);
    }

    [Fact]
    public void The_probes_report_the_true_state_with_small_noise()
    {
        var spec = new SimulatedNode
        {
            Id = "laptop",
            BaseLoad = 0.5,
            Models = [new SimulatedModel { Id = "m" }],
            Power = new SimulatedPower { BatteryWattHours = 60, BatteryPercent = 40, PluggedIn = false },
            Network = new SimulatedLink { Metered = true },
        };
        var node = new NodeModel(spec, "m", T0, 3);
        PowerFactors p = node.ReadPower(T0);
        Assert.Equal(PowerSource.Battery, p.Source.Value);
        Assert.Equal(40, p.BatteryPercent.Value, 0);
        Assert.Equal(ChargeState.Discharging, p.ChargeState.Value);
        Assert.InRange(node.ReadCompute(T0).CpuUtilization.Value, 0.35, 0.65);
        Assert.True(node.ReadNetwork(T0).Metered.Value);
    }

    [Theory]
    [InlineData(true, 45.0, 40.0, ChargeState.Charging, 45.0)]
    [InlineData(true, 0.0, 40.0, ChargeState.NotCharging, 0.0)] // a charger that delivers nothing: Linux's "Not charging"
    [InlineData(true, 45.0, 100.0, ChargeState.Full, 0.0)]
    [InlineData(false, 45.0, 40.0, ChargeState.Discharging, -1.0)]
    public void A_plugged_in_battery_reports_charging_only_while_its_charger_charges_it(bool plugged, double chargeWatts, double percent, ChargeState expected, double expectedRate)
    {
        var spec = new SimulatedNode
        {
            Id = "laptop",
            Models = [new SimulatedModel { Id = "m" }],
            Power = new SimulatedPower { BatteryWattHours = 50, BatteryPercent = percent, PluggedIn = plugged, ChargeWatts = chargeWatts },
        };
        var node = new NodeModel(spec, "m", T0, 3);

        PowerFactors p = node.ReadPower(T0);

        Assert.Equal(expected, p.ChargeState.Value);
        Assert.Equal(plugged ? PowerSource.Mains : PowerSource.Battery, p.Source.Value);
        if (expectedRate >= 0)
        {
            Assert.Equal(expectedRate, p.BatteryRateWatts.Value);
        }
        else
        {
            Assert.True(p.BatteryRateWatts.Value > 0, "a discharging battery reports the draw it supplies");
        }
    }
}
