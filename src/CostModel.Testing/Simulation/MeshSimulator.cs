namespace CostModel.Testing.Simulation;

/// <summary>
/// A deterministic discrete-event simulator of a mesh in virtual time. It drives the library's
/// real pieces (the collector fed by simulated probes, the gossip adapter over the in-memory
/// network, the scorer and router with the scenario's options) and compares routing policies on
/// the same seeded workload. See <c>docs/simulation.md</c>.
/// </summary>
/// <example>
/// <code>
/// Scenario scenario = Scenario.BuiltIn("home-mesh");
/// foreach (string policy in RoutingPolicies.Ids)
/// {
///     SimulationMetrics m = MeshSimulator.Run(scenario, policy, seed: 1).Metrics;
///     Console.WriteLine($"{policy}: p95 {m.P95LatencySeconds:0.0} s, API {m.ApiDollars:0.0000} $");
/// }
/// </code>
/// </example>
public static class MeshSimulator
{
    /// <summary>Battery samples every 5 s of virtual time: fine enough for a chart of a minutes-long run.</summary>
    public const double SampleIntervalSeconds = 5;

    /// <summary>Decisions are counted in 10 s buckets (also the unplug reaction's resolution).</summary>
    public const double DecisionBucketSeconds = 10;

    /// <summary>Runs one policy on one scenario, the routers' draws seeded by the same seed as the rest.</summary>
    /// <param name="scenario">The scenario (validated again here).</param>
    /// <param name="policyId">One of <see cref="RoutingPolicies.Ids"/>.</param>
    /// <param name="seed">Seeds the workload, the probes' noise, gossip peer choice and the policies' randomness: the same seed gives the same result.</param>
    /// <returns>The metrics and time series.</returns>
    /// <exception cref="ScenarioException">The scenario or its options are invalid.</exception>
    /// <exception cref="ArgumentException">The policy is unknown.</exception>
    public static SimulationResult Run(Scenario scenario, string policyId, int seed) => Run(scenario, policyId, seed, routerSeed: seed);

    /// <summary>
    /// Runs one policy on one scenario with the routers' random draws seeded apart from the rest:
    /// the same <paramref name="seed"/> with another <paramref name="routerSeed"/> gives the same
    /// requests (arrival times, sizes, routers), the same truth and the same readings' noise, and
    /// only the routers' draws reshuffled. Running a few router seeds tells a policy's result from
    /// the luck of its draws (docs/simulation.md, "Is it luck? Router seeds").
    /// </summary>
    /// <param name="scenario">The scenario (validated again here).</param>
    /// <param name="policyId">One of <see cref="RoutingPolicies.Ids"/>.</param>
    /// <param name="seed">The scenario seed: the workload, the nodes' truth and the probes' noise, and the gossip network's draws (peer choice, loss, jitter).</param>
    /// <param name="routerSeed">
    /// The router seed: only the routers' random draws, those of the library router's
    /// <see cref="CostModel.Routing.IRandomSource"/> and of the baseline policies (random, p2c).
    /// Equal to <paramref name="seed"/>, the result is that of <see cref="Run(Scenario, string, int)"/>.
    /// Each node's draws are seeded from it and the node's position, so router seeds a few apart
    /// can hand one node's stream to another: take them 1000 or more apart, as the report runner's
    /// <c>--router-seeds</c> does, for unrelated draws.
    /// </param>
    /// <returns>The metrics and time series (<see cref="SimulationResult.Seed"/> is <paramref name="seed"/>).</returns>
    /// <exception cref="ScenarioException">The scenario or its options are invalid.</exception>
    /// <exception cref="ArgumentException">The policy is unknown.</exception>
    public static SimulationResult Run(Scenario scenario, string policyId, int seed, int routerSeed)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentException.ThrowIfNullOrWhiteSpace(policyId);
        if (!RoutingPolicies.Ids.Contains(policyId))
        {
            throw new ArgumentException($"Unknown policy '{policyId}'; known: {string.Join(", ", RoutingPolicies.Ids)}.", nameof(policyId));
        }

        scenario.Validate(scenario.Name);
        using var run = new SimulationRun(scenario, policyId, seed, routerSeed);

        // The nodes receive each moment's gossip, and write their rounds, on every core: the same
        // result, sooner on a large mesh.
        run.GossipNetwork.ParallelDelivery = Environment.ProcessorCount > 1;
        run.ParallelRounds = Environment.ProcessorCount > 1;
        return run.Run();
    }
}
