using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>
/// Conversations in the simulator: a person sends the next turn after reading the last answer, the
/// prompt carries the history, and the node that served the last turn holds it in its KV cache.
/// </summary>
public sealed class ConversationTests
{
    private const int Seed = 3;
    private const double Prefill = 400;
    private const double Decode = 40;

    /// <summary>One desktop serving its own app: no network, no queue (one conversation, sequential turns).</summary>
    private static Scenario OneNode(int maxHistoryTokens) => new()
    {
        Name = "one-node-chat",
        DurationSeconds = 600,
        Nodes =
        [
            new SimulatedNode
            {
                Id = "desk",

                // No other work: background load takes its share of the processor, and these tests count exact service times.
                BaseLoad = 0,
                Models = [new SimulatedModel { Id = SimulationDefaults.Model, PrefillTokensPerSecond = Prefill, DecodeTokensPerSecond = Decode }],
                Power = new SimulatedPower { IdleWatts = 40, ActiveWatts = 150 },
            },
        ],
        Workload = new Workload { RequestsPerMinute = 6, ConversationShare = 1, ConversationsPerRouter = 1, MaxHistoryTokens = maxHistoryTokens },
    };

    [Fact]
    public void Turns_of_a_conversation_never_overlap_and_each_carries_the_answered_history()
    {
        Scenario scenario = Scenario.BuiltIn("near-equal-nodes");
        scenario.DurationSeconds = 180;
        SimulationResult result = MeshSimulator.Run(scenario, RoutingPolicies.RoundRobin, Seed);

        int followUps = 0;
        foreach (IGrouping<string?, RequestRecord> conversation in result.Requests.Where(r => r.AffinityKey is not null).GroupBy(r => r.AffinityKey))
        {
            RequestRecord[] turns = [.. conversation.OrderBy(r => r.SentSeconds)];
            Assert.Equal(0, turns[0].HistoryTokens);
            for (int i = 1; i < turns.Length; i++)
            {
                RequestRecord last = turns[i - 1];
                RequestRecord turn = turns[i];
                Assert.True(turn.SentSeconds >= last.SentSeconds + last.LatencySeconds - 0.002, $"{turn.AffinityKey}: turn sent at {turn.SentSeconds} s before the answer at {last.SentSeconds + last.LatencySeconds} s");
                Assert.True(turn.SentSeconds >= turn.ArrivalSeconds);
                int grown = last.HistoryTokens + last.InputTokens + last.OutputTokens;
                int expected = !last.Succeeded ? last.HistoryTokens
                    : grown > scenario.Workload.MaxHistoryTokens ? last.InputTokens + last.OutputTokens
                    : grown;
                Assert.Equal(expected, turn.HistoryTokens);
                followUps++;
            }
        }

        Assert.True(followUps > 10, $"only {followUps} follow-ups");
    }

    [Fact]
    public void The_node_holding_the_history_prefills_only_the_new_turn()
    {
        SimulationResult result = MeshSimulator.Run(OneNode(maxHistoryTokens: 100_000), RoutingPolicies.RoundRobin, Seed);

        RequestRecord[] turns = [.. result.Requests.OrderBy(r => r.SentSeconds)];
        Assert.True(turns.Length > 20);
        Assert.All(turns, t => Assert.True(t.Succeeded));
        for (int i = 0; i < turns.Length; i++)
        {
            // Every turn after the first finds the history in the cache: the latency is the new turn's prefill and the answer's decode.
            double expected = (turns[i].InputTokens / Prefill) + (turns[i].OutputTokens / Decode);
            Assert.Equal(expected, turns[i].LatencySeconds, 2);
        }

        Assert.True(turns[^1].HistoryTokens > 10_000, "the history grew across the turns");
    }

    [Fact]
    public void Past_the_history_bound_the_client_starts_a_new_prefix_that_no_cache_holds()
    {
        const int bound = 3_000;
        SimulationResult result = MeshSimulator.Run(OneNode(bound), RoutingPolicies.RoundRobin, Seed);

        RequestRecord[] turns = [.. result.Requests.OrderBy(r => r.SentSeconds)];
        int misses = 0;
        for (int i = 1; i < turns.Length; i++)
        {
            RequestRecord last = turns[i - 1];
            bool truncated = last.HistoryTokens + last.InputTokens + last.OutputTokens > bound;
            double prefilled = truncated ? turns[i].HistoryTokens + turns[i].InputTokens : turns[i].InputTokens;
            Assert.Equal((prefilled / Prefill) + (turns[i].OutputTokens / Decode), turns[i].LatencySeconds, 2);
            Assert.InRange(turns[i].HistoryTokens, 0, bound);
            misses += truncated ? 1 : 0;
        }

        Assert.True(misses > 0, "the bound was never reached");
    }
}
