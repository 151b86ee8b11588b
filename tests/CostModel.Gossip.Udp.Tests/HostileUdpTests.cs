using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CostModel.Gossip;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// Issue 12's hostile-UDP test: three real transports on 127.0.0.1, with real gossip adapters
/// sharing a key, keep a converged mesh through a bounded flood of junk, oversized, replayed and
/// wrong-key datagrams from many source ports. Waits are on view changes, with timeouts.
/// </summary>
public sealed class HostileUdpTests : IAsyncDisposable
{
    /// <summary>Source ports of the flood: each sends one kind of datagram.</summary>
    private const int FloodPorts = 300;

    /// <summary>Flood rounds: each port sends one datagram to each node per round.</summary>
    private const int FloodRounds = 10;

    /// <summary>The attacker's pace (not a wait for the system under test): 10 rounds over 2 s.</summary>
    private static readonly TimeSpan FloodRoundInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>A failure guard for convergence on a loaded machine, not an expected duration.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static readonly string MeshKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static readonly string OtherKey = Convert.ToBase64String(Enumerable.Range(101, 32).Select(i => (byte)i).ToArray());

    private readonly List<GossipHost> _hosts = [];
    private readonly List<UdpClient> _sockets = [];

    private enum Kind
    {
        OneByte,
        RandomBytes,
        Oversize,
        Replay,
        WrongKey,
    }

    public async ValueTask DisposeAsync()
    {
        foreach (UdpClient socket in _sockets)
        {
            socket.Dispose();
        }

        foreach (GossipHost host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Three_transports_keep_a_converged_keyed_mesh_through_a_flood_of_junk_oversized_replayed_and_wrong_key_datagrams()
    {
        Dictionary<string, Kind> kinds = await FloodAsync([Kind.OneByte, Kind.RandomBytes, Kind.Oversize, Kind.Replay, Kind.WrongKey]);

        foreach (GossipHost host in _hosts)
        {
            // No flood port became a peer, and no node was declared dead meanwhile (issue 12: 900
            // one-byte datagrams dissolved a keyed mesh). A replayed message is held until its
            // sender answers a challenge, which a replaying port cannot do, so it is never accepted.
            Assert.Empty(FloodPeers(host, kinds));
            Assert.Empty(host.Losses);
            Assert.DoesNotContain(kinds.Keys, host.Observed.Accepted);
            AssertJunkCounted(host);
        }
    }

    /// <summary>
    /// Starts three nodes (n2 and n3 join through n1), waits until each sees the other two alive,
    /// floods every node from <see cref="FloodPorts"/> ports (port i sends kind i mod the kinds
    /// given, one datagram per round) and waits until each sees the other two alive again. Then
    /// checks that each node's peers include real nodes, and prints what each node counted.
    /// </summary>
    /// <returns>Each flood port's <c>ip:port</c> and the kind it sent.</returns>
    private async Task<Dictionary<string, Kind>> FloodAsync(Kind[] floodKinds)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        GossipHost n1 = await StartAsync("n1", seed: null);
        GossipHost n2 = await StartAsync("n2", n1.Transport.LocalEndPoint);
        await StartAsync("n3", n1.Transport.LocalEndPoint);
        await AllSeeEachOtherAliveAsync();
        byte[] replayedRound = n1.Observed.LastPayload ?? throw new InvalidOperationException("n1 gossiped nothing yet");
        byte[] replayedSync = n2.Observed.SyncRequest ?? throw new InvalidOperationException("n2 sent no sync request");
        byte[] wrongKey = WrongKeyMessage();

        var random = new Random(12);
        var kinds = new Dictionary<string, Kind>(StringComparer.Ordinal);
        var flood = new (UdpClient Socket, byte[] Payload)[FloodPorts];
        for (int i = 0; i < FloodPorts; i++)
        {
            Kind kind = floodKinds[i % floodKinds.Length];
            byte[] payload = kind switch
            {
                Kind.OneByte => [(byte)i],
                Kind.RandomBytes => Random(random, 200),
                Kind.Oversize => Random(random, UdpGossipOptions.DefaultMtu + 1),
                Kind.Replay => i % 2 == 0 ? replayedRound : replayedSync,
                _ => wrongKey,
            };
            var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            _sockets.Add(socket);
            flood[i] = (socket, payload);
            kinds[((IPEndPoint)socket.Client.LocalEndPoint!).ToString()] = kind;
        }

        var clock = Stopwatch.StartNew();
        using (var pace = new PeriodicTimer(FloodRoundInterval))
        {
            for (int round = 0; round < FloodRounds; round++)
            {
                foreach ((UdpClient socket, byte[] payload) in flood)
                {
                    foreach (GossipHost target in _hosts)
                    {
                        await socket.SendAsync(payload, target.Transport.LocalEndPoint, ct);
                    }
                }

                await pace.WaitForNextTickAsync(ct);
            }
        }

        TimeSpan flooded = clock.Elapsed;
        await AllSeeEachOtherAliveAsync();
        ITestOutputHelper? output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"flood of {FloodPorts * FloodRounds * _hosts.Count} datagrams over {flooded.TotalSeconds:F1} s; all alive {(clock.Elapsed - flooded).TotalSeconds:F1} s after it");

        var real = RealAddresses();
        foreach (GossipHost host in _hosts)
        {
            UdpGossipStats stats = host.Transport.Stats;
            output?.WriteLine(
                $"{host.NodeId}: peers {host.Transport.PeerAddresses().Count(real.Contains)} real + {FloodPeers(host, kinds).Length} flood; received {stats.DatagramsReceived}, delivered {stats.DatagramsDelivered}, "
                + $"refused {stats.DatagramsRefused}, oversize {stats.ReceivedOversize}, source-limited {stats.ReceivedSourceLimited}, stranger-limited {stats.ReceivedStrangerLimited}, "
                + $"queue-full {stats.ReceivedQueueFull}; sent to strangers dropped {stats.SendDestinationLimited + stats.SendStrangerLimited}; adapter rejected {host.Adapter.Statistics.Rejected}; "
                + $"declared dead meanwhile: {(host.Losses.Count == 0 ? "none" : string.Join(", ", host.Losses))}");
            Assert.Contains(host.Transport.PeerAddresses(), real.Contains);
        }

        return kinds;
    }

    /// <summary>The node's peers that are flood ports (every other peer is a real node: asserted).</summary>
    private string[] FloodPeers(GossipHost host, Dictionary<string, Kind> kinds)
    {
        HashSet<string> real = RealAddresses();
        string[] peers = host.Transport.PeerAddresses();
        Assert.All(peers, p => Assert.True(real.Contains(p) || kinds.ContainsKey(p), $"{p} is neither a node nor a flood port"));
        return [.. peers.Where(kinds.ContainsKey)];
    }

    private static void AssertJunkCounted(GossipHost host)
    {
        UdpGossipStats stats = host.Transport.Stats;
        Assert.True(stats.DatagramsRefused > 0, "refused by the adapter: none counted");
        Assert.True(stats.ReceivedOversize > 0, "oversize: none counted");
        Assert.True(stats.ReceivedSourceLimited > 0, "over 127.0.0.1's stranger budget: none counted");
        Assert.True(host.Adapter.Statistics.Rejected > 0, "the adapter rejected none");
    }

    private HashSet<string> RealAddresses() => _hosts.Select(h => h.Transport.LocalEndPoint.ToString()).ToHashSet(StringComparer.Ordinal);

    private static byte[] Random(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A well-formed sync request of a node with another key: refused by authentication.</summary>
    private static byte[] WrongKeyMessage()
    {
        GossipAdapter stranger = GossipHost.AdapterOnly("intruder", OtherKey, out IDisposable owner);
        using (owner)
        {
            byte[] buffer = new byte[GossipDefaults.Mtu];
            return buffer[..stranger.WriteSyncRequest(buffer)];
        }
    }

    private async Task<GossipHost> StartAsync(string nodeId, IPEndPoint? seed)
    {
        GossipHost host = await GossipHost.StartAsync(nodeId, MeshKey, seed);
        _hosts.Add(host);
        return host;
    }

    private async Task AllSeeEachOtherAliveAsync()
    {
        string[] ids = [.. _hosts.Select(h => h.NodeId)];
        await Task.WhenAll(_hosts.Select(h => h.WaitUntilSeesAliveAsync([.. ids.Where(id => id != h.NodeId)], Patience)));
    }
}
