using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>
/// The report's "other" assumptions named one by one (<see cref="AssumptionShares"/>): a node that
/// tells its power draw (a laptop discharging reports it) against one that does not (a desktop on
/// mains), so that a reader sees which default priced what.
/// </summary>
public sealed class AssumptionSharesTests
{
    private const int Seed = 3;

    [Fact]
    public void A_mesh_whose_only_server_reports_its_draw_assumes_no_power_figure()
    {
        AssumptionShares a = Run(pluggedIn: false);

        // The laptop on battery reports its discharge rate, the system's whole draw: no prior.
        Assert.True(a.Decisions > 0);
        Assert.Equal(0, a.PowerDrawPrior);
        Assert.Equal(0, a.Other);
    }

    [Fact]
    public void A_mesh_whose_only_server_is_on_mains_prices_every_decision_with_the_draw_prior_and_names_it()
    {
        AssumptionShares a = Run(pluggedIn: true);

        // On mains the laptop reports no power figure: every decision compared it at the active-watts prior,
        // and that is the whole of "other".
        Assert.True(a.Decisions > 0);
        Assert.Equal(1, a.PowerDrawPrior);
        Assert.Equal(1, a.Other);
        Assert.Equal(0, a.ThroughputPrior);
        Assert.Equal(0, a.ThermalUnknown);
        Assert.Equal(0, a.BatteryAtFloor);
        Assert.Equal(0, a.PowerSourceUnknown);
        Assert.Equal(0, a.MeteredUnknown);
    }

    private static AssumptionShares Run(bool pluggedIn)
    {
        Scenario s = Scenario.Parse($$"""
            {
              "name": "one-laptop",
              "durationSeconds": 60,
              "nodes": [
                { "id": "laptop", "models": [ { "id": "{{SimulationDefaults.Model}}" } ],
                  "power": { "batteryWattHours": 60, "batteryPercent": 90, "pluggedIn": {{(pluggedIn ? "true" : "false")}}, "idleWatts": 8, "activeWatts": 40 } },
                { "id": "client" }
              ],
              "workload": { "requestsPerMinute": 20 }
            }
            """);
        SimulationResult r = MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed);
        return r.Metrics.Assumptions!;
    }
}
