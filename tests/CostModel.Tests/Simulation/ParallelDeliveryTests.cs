using CostModel.Testing.Gossip;
using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>
/// The in-memory network's parallel delivery (<see cref="InMemoryNetwork.ParallelDelivery"/>, which
/// the simulator turns on where there are several cores) must give exactly what one-by-one delivery
/// gives: the same messages, random draws and counters, so the same result for a seed; and so must
/// the hosts' gossip rounds written on all cores (<see cref="SimulationRun.ParallelRounds"/>).
/// </summary>
public sealed class ParallelDeliveryTests
{
    [Theory]
    [InlineData("mesh-burst-48", 40)]
    [InlineData("household-what-if", 240)]
    public void A_run_delivering_in_parallel_gives_the_result_of_one_by_one(string name, double seconds)
    {
        (string oneByOne, long sentOneByOne) = RunWith(name, seconds, parallel: false);
        (string parallel, long sentParallel) = RunWith(name, seconds, parallel: true);

        Assert.Equal(sentOneByOne, sentParallel);
        Assert.Equal(oneByOne, parallel);
    }

    [Fact]
    public void Sends_from_receivers_of_one_wave_keep_the_order_one_by_one_gives_them()
    {
        // Three receivers each answer every message with two replies over a lossy, duplicating,
        // jittered link: which replies are lost, duplicated and when they arrive depends on the
        // order of the random draws, so any reordering of the sends shows in what arrives.
        List<string> oneByOne = Echoes(parallel: false);
        List<string> parallel = Echoes(parallel: true);

        Assert.True(oneByOne.Count > 200, $"{oneByOne.Count} messages arrived");
        Assert.Equal(oneByOne, parallel);
    }

    // Payloads from this value up are forwards, not answered.
    private const byte Forwarded = 100;

    [Theory]
    [InlineData("mesh-burst-48", 40)]
    [InlineData("household-what-if", 240)]
    public void A_run_writing_gossip_rounds_on_all_cores_gives_the_result_of_one_host_after_the_other(string name, double seconds)
    {
        (string oneByOne, long sentOneByOne, int parallelRoundsOff) = RunWith(name, seconds, parallel: true, parallelRounds: false);
        (string parallel, long sentParallel, int parallelRounds) = RunWith(name, seconds, parallel: true, parallelRounds: true);

        Assert.Equal(0, parallelRoundsOff);
        Assert.True(parallelRounds > 0, "no round was written on all cores");
        Assert.Equal(sentOneByOne, sentParallel);
        Assert.Equal(oneByOne, parallel);
    }

    [Fact]
    public void A_mesh_smaller_than_the_threshold_writes_its_rounds_one_host_after_the_other()
    {
        Scenario scenario = Scenario.BuiltIn("mesh-burst-48");
        scenario.DurationSeconds = 5;
        using var run = new SimulationRun(scenario, RoutingPolicies.CostModel, seed: 3, routerSeed: 3);
        run.GossipNetwork.ParallelDelivery = true;
        run.ParallelRounds = true;
        run.Run();

        Assert.True(scenario.Nodes.Count < SimulationRun.MinParallelRoundHosts);
        Assert.Equal(0, run.ParallelRoundCount);
    }

    private static (string Json, long Sent) RunWith(string name, double seconds, bool parallel)
    {
        (string json, long sent, _) = RunWith(name, seconds, parallel, parallelRounds: false);
        return (json, sent);
    }

    private static (string Json, long Sent, int ParallelRounds) RunWith(string name, double seconds, bool parallel, bool parallelRounds)
    {
        Scenario scenario = Scenario.BuiltIn(name);
        scenario.DurationSeconds = seconds;
        using var run = new SimulationRun(scenario, RoutingPolicies.CostModel, seed: 3, routerSeed: 3);
        run.GossipNetwork.ParallelDelivery = parallel;
        run.ParallelRounds = parallelRounds;

        // These meshes are smaller than the simulator's threshold for writing rounds on all cores: lowered, so that they do.
        run.ParallelRoundsFrom = 1;
        SimulationResult result = run.Run();
        return (result.ToJson(), run.GossipNetwork.Total.Sent.Messages, run.ParallelRoundCount);
    }

    private static List<string> Echoes(bool parallel)
    {
        var time = new VirtualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var network = new InMemoryNetwork(time, seed: 11)
        {
            DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(5), Jitter = TimeSpan.FromMilliseconds(3), LossProbability = 0.2, DuplicationProbability = 0.2 },
            ParallelDelivery = parallel,
        };
        var arrived = new List<string>();
        var echoes = new List<List<string>>();
        network.AddEndpoint("source", (payload, from) => arrived.Add($"source<{from}:{payload[0]}@{time.GetUtcNow().Ticks}"));
        foreach (string echo in new[] { "a", "b", "c" })
        {
            var heard = new List<string>();
            network.AddEndpoint(echo, (payload, from) =>
            {
                heard.Add($"{echo}<{from}:{payload[0]}@{time.GetUtcNow().Ticks}");
                if (payload[0] < Forwarded)
                {
                    // The source's messages are answered to it and forwarded to two random peers (not answered again).
                    byte next = (byte)(payload[0] + 1);
                    network.Send(echo, "source", [next]);
                    network.SendToPeers(echo, 2, [(byte)(next + Forwarded)]);
                }
            });
            echoes.Add(heard);
        }

        for (byte i = 0; i < 40; i++)
        {
            // Every receiver gets the same moment's messages: one wave each.
            foreach (string echo in new[] { "a", "b", "c" })
            {
                network.Send("source", echo, [i]);
            }

            time.Advance(TimeSpan.FromMilliseconds(20));
        }

        time.Advance(TimeSpan.FromSeconds(1));

        // Each receiver's own order; the receivers' lists side by side (they ran on several threads).
        return [.. arrived, .. echoes.SelectMany(e => e)];
    }
}
