using CostModel.Gossip;
using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>
/// Regression guards for the simulator at scale, as counts of work rather than timings: at a fixed
/// mesh size, a gossip round must not look at every node of the view (a liveness pass, a scan and
/// sort of the relay candidates), which made a run grow with the square of the node count.
/// </summary>
public sealed class SimulatorScaleTests
{
    private const int Nodes = 60;
    private const double Seconds = 30;

    [Fact]
    public void A_round_looks_at_the_relay_queue_not_the_whole_view_and_at_the_liveness_of_the_nodes_due_only()
    {
        using var run = new SimulationRun(Mesh(), RoutingPolicies.CostModel, seed: 1, routerSeed: 1);
        SimulationResult result = run.Run();
        Assert.True(result.Metrics.CompletedRequests > 0);

        double rounds = (Seconds + SimulationDefaults.WarmupSeconds) / GossipDefaults.Interval.TotalSeconds;
        foreach (SimHost host in run.Hosts)
        {
            (long passes, long checks, long visited) = host.Adapter.WorkCounters;

            // At first: a pass over all 59 other nodes every round (200 passes), and every queued
            // record of the view (up to two per node) looked at and sorted for each message. Then a
            // pass over every node whenever the earliest deadline came (up to 50 passes of 59 nodes;
            // in a 1,000-node mesh nearly every round). Now only the nodes due are looked at, most of
            // them to be queued again under a deadline that heartbeats moved on (186 looks in 68 of
            // the 200 rounds, node-00, seed 1), and about as many records looked at as a message
            // carries (some 17 at this MTU) plus a few that did not fit.
            Assert.True(passes <= rounds / 2, $"{host.Id}: {passes} rounds looked at liveness, of {rounds}");
            Assert.True(checks <= rounds, $"{host.Id}: {checks} liveness checks in {rounds} rounds");
            Assert.True(visited / rounds <= Nodes * 0.6, $"{host.Id}: {visited / rounds:0.0} records looked at per round in a mesh of {Nodes}");
        }

        // Gossip traffic stays linear: each node sends its fanout per round, plus proofs and replies.
        // The replies follow the routing (which nodes' states change): 4.39 with main's burst rule,
        // 4.54 with the large-mesh rule (HerdSpread.LargeMeshClumpRequests 1.5), 4.77 with 1.75.
        double perNodeRound = run.GossipNetwork.Total.Sent.Messages / rounds / Nodes;
        Assert.InRange(perNodeRound, 1, 5);
    }

    /// <summary>A mesh of equal desktops, each one a router too.</summary>
    private static Scenario Mesh()
    {
        var scenario = new Scenario { Name = "scale-guard", DurationSeconds = Seconds, Workload = new Workload { RequestsPerMinute = 3 } };
        for (int i = 0; i < Nodes; i++)
        {
            scenario.Nodes.Add(new SimulatedNode
            {
                Id = $"node-{i:D2}",
                Models = [new SimulatedModel { Id = SimulationDefaults.Model, PrefillTokensPerSecond = 400, DecodeTokensPerSecond = 30, ParallelSlots = 2 }],
            });
        }

        scenario.Validate(scenario.Name);
        return scenario;
    }
}
