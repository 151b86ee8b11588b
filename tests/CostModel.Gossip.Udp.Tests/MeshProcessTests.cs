using System.Diagnostics;
using System.Net.Sockets;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// Three separate OS processes of samples/CostModel.GossipNode (the real collector, the gossip
/// adapter and the UDP transport) on 127.0.0.1. They beat every 0.5 s and declare a node dead
/// after 4 s of silence, so the test runs in seconds; the waits are on output lines, with timeouts.
/// </summary>
public sealed class MeshProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Three_processes_see_each_other_survive_garbage_and_notice_a_death()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var n1 = StartNode("n1");
        int port = int.Parse((await n1.WaitForAsync(l => l.StartsWith("ready n1 ", StringComparison.Ordinal), Patience, ct)).Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        await using var n2 = StartNode("n2", $"127.0.0.1:{port}");
        await using var n3 = StartNode("n3", $"127.0.0.1:{port}");

        // Each sees the other two alive within 5 s of all three gossiping (the clock starts when the
        // last one is ready, so the runtime's start-up on a loaded machine is not counted as gossip).
        await Task.WhenAll(
            n2.WaitForAsync(l => l.StartsWith("ready n2 ", StringComparison.Ordinal), Patience, ct),
            n3.WaitForAsync(l => l.StartsWith("ready n3 ", StringComparison.Ordinal), Patience, ct));
        var started = Stopwatch.StartNew();
        await Task.WhenAll(
            n1.WaitForAsync(l => AliveIs(l, "n2,n3"), Patience, ct),
            n2.WaitForAsync(l => AliveIs(l, "n1,n3"), Patience, ct),
            n3.WaitForAsync(l => AliveIs(l, "n1,n2"), Patience, ct));
        TimeSpan converged = started.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"three processes saw each other after {converged.TotalSeconds:F1} s");
        Assert.True(converged < TimeSpan.FromSeconds(5), $"took {converged}");

        // A datagram of garbage is counted and the process keeps working.
        using (var raw = new UdpClient())
        {
            byte[] garbage = new byte[200];
            new Random(7).NextBytes(garbage);
            await raw.SendAsync(garbage, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), ct);
        }

        await n1.WaitForAsync(l => l.StartsWith("status ", StringComparison.Ordinal) && Field(l, "rejected") >= 1 && AliveIs(l, "n2,n3"), Patience, ct);

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

    private static long Field(string line, string name)
    {
        foreach (string part in line.Split(' '))
        {
            if (part.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return long.Parse(part[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    // One key for the three processes of a run, as a real mesh shares one.
    private static readonly string MeshKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static SampleProcess StartNode(string id, string? seed = null)
    {
        List<string> arguments = ["--node-id", id, "--port", "0", "--key", MeshKey, "--heartbeat", "0.5", "--dead-after", "4", "--remove-after", "60", "--duration", "120"];
        if (seed is not null)
        {
            arguments.AddRange(["--seed", seed]);
        }

        return SampleProcess.Start("CostModel.GossipNode", arguments);
    }
}
