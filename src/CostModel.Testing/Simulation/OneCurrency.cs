using CostModel.Scoring;

namespace CostModel.Testing.Simulation;

/// <summary>
/// Prices a run in one currency with the scenario's own prices (its <c>costModel.scoring</c>
/// section, as every node bound it): latency at the value of time of each request's urgency,
/// the work's electricity on mains, its battery wear on battery, metered traffic and API spend.
/// </summary>
internal static class OneCurrency
{
    private const double WattHoursPerKilowattHour = 1_000;

    public static SimulationMetrics Price(SimulationMetrics m, Scenario scenario, IReadOnlyList<SimHost> hosts, IReadOnlyList<SimRequest> requests, Policy policy)
    {
        ScoringOptions o = hosts[0].Scoring;
        double latency = 0;
        foreach (SimRequest r in requests)
        {
            double seconds = r.Succeeded ? r.LatencySeconds : Math.Max(r.LatencySeconds, scenario.RequestTimeoutSeconds);
            latency += seconds * o.ValueOfTime(r.Urgency);
        }

        double energy = hosts.Sum(h => h.Node.WorkMainsWattHours) / WattHoursPerKilowattHour * o.ElectricityDollarsPerKilowattHour;
        double battery = hosts.Sum(h => h.Node.WorkBatteryWattHours) / WattHoursPerKilowattHour * o.BatteryWearDollarsPerKilowattHour;
        double metered = m.MeteredGigabytes * o.MeteredDollarsPerGigabyte;
        return m with
        {
            LatencyDollars = Round(latency),
            EnergyDollars = Round(energy),
            BatteryDollars = Round(battery),
            MeteredDollars = Round(metered),
            TotalDollars = Round(latency + energy + battery + metered + m.ApiDollars),
            Assumptions = policy.AssumptionShares(),
            AgainstTruth = policy.AgainstTruth(),
        };
    }

    private static double Round(double v) => Math.Round(v, 6);
}
