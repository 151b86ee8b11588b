using System.Diagnostics;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>
/// Three separate OS processes of <c>samples/CostModel.GossipNode --nats URL</c> (the real collector,
/// the gossip adapter and the NATS transport, as a Generic Host runs them) through one real
/// <c>nats-server</c>. They beat every 0.5 s and declare a node dead after 4 s of silence, so the test
/// runs in seconds; the waits are on output lines, with timeouts.
/// </summary>
public sealed class GossipNodeProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // One key for the three processes of a run, as a real mesh shares one.
    private static readonly string MeshKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task Three_gossip_node_processes_converge_through_the_server_and_notice_a_death()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using NatsServer server = await NatsServer.StartAsync();
        await using SampleProcess n1 = StartNode("n1", server.Url);
        await using SampleProcess n2 = StartNode("n2", server.Url);
        await using SampleProcess n3 = StartNode("n3", server.Url);
        await Task.WhenAll(
            n1.WaitForAsync(l => l == "ready n1 nats", Patience, ct),
            n2.WaitForAsync(l => l == "ready n2 nats", Patience, ct),
            n3.WaitForAsync(l => l == "ready n3 nats", Patience, ct));

        // Timed from the last one ready, so the runtime's start-up on a loaded machine is not counted as gossip.
        var started = Stopwatch.StartNew();
        await Task.WhenAll(
            n1.WaitForAsync(l => AliveIs(l, "n2,n3"), Patience, ct),
            n2.WaitForAsync(l => AliveIs(l, "n1,n3"), Patience, ct),
            n3.WaitForAsync(l => AliveIs(l, "n1,n2"), Patience, ct));
        TestContext.Current.TestOutputHelper?.WriteLine($"three processes saw each other through NATS after {started.Elapsed.TotalSeconds:F1} s");

        // Stop one: the others mark it Suspect, then Dead.
        n3.Kill();
        foreach (SampleProcess survivor in new[] { n1, n2 })
        {
            await survivor.WaitForAsync(l => l == "change n3 Suspect", Patience, ct);
            await survivor.WaitForAsync(l => l == "change n3 Dead", Patience, ct);
        }
    }

    private static bool AliveIs(string line, string peers) =>
        line.StartsWith("status ", StringComparison.Ordinal) && line.Contains($" alive={peers} ", StringComparison.Ordinal);

    private static SampleProcess StartNode(string id, string url) =>
        SampleProcess.Start("CostModel.GossipNode", ["--node-id", id, "--nats", url, "--key", MeshKey, "--heartbeat", "0.5", "--dead-after", "4", "--remove-after", "60", "--duration", "120"]);
}
