using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>Real sockets on 127.0.0.1 with ephemeral ports; waits are on events (a received datagram), never sleeps.</summary>
public sealed class UdpGossipTransportTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<IAsyncDisposable> _transports = [];
    private readonly List<RecordingAdapter> _adapters = [];

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable transport in _transports)
        {
            await transport.DisposeAsync();
        }

        foreach (RecordingAdapter adapter in _adapters)
        {
            adapter.Dispose();
        }
    }

    [Fact]
    public async Task A_pushed_message_with_an_addressee_arrives_there_and_the_reply_comes_back()
    {
        const int PeerAdmittedEvent = 4517;
        var logB = new SignalingLogger();
        (UdpGossipTransport a, RecordingAdapter adapterA) = await StartAsync();
        (UdpGossipTransport b, RecordingAdapter adapterB) = await StartAsync(logger: logB);

        adapterA.Push([1, 2, 3], to: Text(b.LocalEndPoint));
        (byte[] payload, string from) = await adapterB.NextAsync();

        Assert.Equal([1, 2, 3], payload);
        Assert.Equal(Text(a.LocalEndPoint), from);

        adapterB.Push([4], to: from);
        (byte[] reply, string replyFrom) = await adapterA.NextAsync();

        Assert.Equal([4], reply);
        Assert.Equal(Text(b.LocalEndPoint), replyFrom);
        Assert.Equal(1, a.Stats.DatagramsSent);
        Assert.Equal(1, a.Stats.DatagramsDelivered);
        await logB.WaitForAsync(PeerAdmittedEvent, times: 1); // b's adapter accepted a's message
        Assert.Equal([Text(a.LocalEndPoint)], b.PeerAddresses());
    }

    [Fact]
    public async Task A_sync_request_goes_to_each_seed_on_start()
    {
        (UdpGossipTransport seed1, RecordingAdapter adapter1) = await StartAsync();
        (UdpGossipTransport seed2, RecordingAdapter adapter2) = await StartAsync();

        (UdpGossipTransport joiner, _) = await StartAsync(o =>
        {
            o.SeedPeers.Add(Text(seed1.LocalEndPoint));
            o.SeedPeers.Add($"localhost:{seed2.LocalEndPoint.Port}"); // a host name, resolved at start
        });

        (byte[] got1, string from1) = await adapter1.NextAsync();
        (byte[] got2, string from2) = await adapter2.NextAsync();
        Assert.Equal(RecordingAdapter.SyncRequest, got1);
        Assert.Equal(RecordingAdapter.SyncRequest, got2);
        Assert.Equal(Text(joiner.LocalEndPoint), from1);
        Assert.Equal(Text(joiner.LocalEndPoint), from2);
        Assert.Equal(2, joiner.Stats.Peers);
    }

    [Fact]
    public async Task A_gossip_round_pulls_the_payload_and_sends_it_to_a_peer()
    {
        (UdpGossipTransport b, RecordingAdapter adapterB) = await StartAsync();
        (UdpGossipTransport a, RecordingAdapter adapterA) = await StartAsync(o => o.SeedPeers.Add(Text(b.LocalEndPoint)));
        Assert.Equal(RecordingAdapter.SyncRequest, (await adapterB.NextAsync()).Payload);
        adapterA.Payload = [9, 8, 7];

        Assert.Equal(1, a.GossipRound());

        (byte[] payload, string from) = await adapterB.NextAsync();
        Assert.Equal([9, 8, 7], payload);
        Assert.Equal(Text(a.LocalEndPoint), from);
    }

    [Fact]
    public async Task The_timer_runs_a_round_every_gossip_interval()
    {
        (UdpGossipTransport b, RecordingAdapter adapterB) = await StartAsync();
        (_, RecordingAdapter adapterA) = await StartAsync(o => o.SeedPeers.Add(Text(b.LocalEndPoint)));
        await adapterB.NextAsync(); // the sync request
        adapterA.Payload = [5];

        _time.Advance(UdpGossipOptions.DefaultGossipInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, adapterA.WritePayloadCalls);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(1, adapterA.WritePayloadCalls);
        Assert.Equal([5], (await adapterB.NextAsync()).Payload);
    }

    [Fact]
    public async Task A_round_with_nothing_to_send_or_no_peer_sends_nothing()
    {
        (UdpGossipTransport a, RecordingAdapter adapterA) = await StartAsync();

        Assert.Equal(0, a.GossipRound());
        adapterA.Payload = [1];
        Assert.Equal(0, a.GossipRound());

        Assert.Equal(0, a.Stats.DatagramsSent);
        Assert.Equal(1, a.Stats.SendNoPeers);
    }

    [Fact]
    public async Task An_unaddressed_push_goes_to_known_peers()
    {
        (UdpGossipTransport b, RecordingAdapter adapterB) = await StartAsync();
        (_, RecordingAdapter adapterA) = await StartAsync(o => o.SeedPeers.Add(Text(b.LocalEndPoint)));
        await adapterB.NextAsync(); // the sync request

        adapterA.Push([6, 6], to: null);

        Assert.Equal([6, 6], (await adapterB.NextAsync()).Payload);
    }

    [Fact]
    public async Task A_garbage_datagram_reaches_the_adapter_is_refused_and_the_transport_keeps_working()
    {
        (UdpGossipTransport a, RecordingAdapter adapterA) = await StartAsync();
        (_, RecordingAdapter adapterB) = await StartAsync();
        adapterA.Accept = (payload, _) => payload[0] != 0xFF; // what a real adapter says of garbage
        using var raw = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));

        await raw.SendAsync(new byte[] { 0xFF, 0x00, 0x13 }, a.LocalEndPoint, TestContext.Current.CancellationToken);
        (byte[] garbage, string from) = await adapterA.NextAsync();
        Assert.Equal([0xFF, 0x00, 0x13], garbage);
        Assert.Equal(Text((IPEndPoint)raw.Client.LocalEndPoint!), from);

        adapterB.Push([1], to: Text(a.LocalEndPoint));
        Assert.Equal([1], (await adapterA.NextAsync()).Payload);
        UdpGossipStats stats = a.Stats; // one loop delivers in turn: the garbage's Receive has returned
        Assert.Equal(2, stats.DatagramsDelivered);
        Assert.Equal(1, stats.DatagramsRefused);
        Assert.DoesNotContain(Text((IPEndPoint)raw.Client.LocalEndPoint!), a.PeerAddresses());
    }

    [Fact]
    public async Task A_datagram_over_the_mtu_is_dropped_and_counted()
    {
        (UdpGossipTransport a, RecordingAdapter adapterA) = await StartAsync(o => o.Mtu = 512);
        using var raw = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));

        await raw.SendAsync(new byte[513], a.LocalEndPoint, TestContext.Current.CancellationToken);
        await raw.SendAsync(new byte[512], a.LocalEndPoint, TestContext.Current.CancellationToken);

        // Loopback keeps one sender's order: once the second arrives, the first was read and dropped.
        Assert.Equal(512, (await adapterA.NextAsync()).Payload.Length);
        UdpGossipStats stats = a.Stats;
        Assert.Equal(1, stats.ReceivedOversize);
        Assert.Equal(2, stats.DatagramsReceived);
        Assert.Equal(1, stats.DatagramsDelivered);
        Assert.False(adapterA.TryTake(out _));
    }

    [Fact]
    public async Task Datagrams_beyond_the_queue_bound_are_dropped_and_counted()
    {
        const int QueueFullEvent = 4505;
        using var entered = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        int calls = 0;
        var logger = new SignalingLogger();
        (UdpGossipTransport a, RecordingAdapter adapterA) = await StartAsync(o => o.MaxQueuedDatagrams = 1, logger);
        adapterA.OnReceive = (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.Release();
                release.Wait(RecordingAdapter.Timeout);
            }
        };
        using var raw = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        CancellationToken ct = TestContext.Current.CancellationToken;

        await raw.SendAsync(new byte[] { 0 }, a.LocalEndPoint, ct);
        Assert.True(await entered.WaitAsync(RecordingAdapter.Timeout, ct)); // the adapter holds datagram 0
        await raw.SendAsync(new byte[] { 1 }, a.LocalEndPoint, ct); // queued (the bound is 1)
        await raw.SendAsync(new byte[] { 2 }, a.LocalEndPoint, ct); // dropped
        await raw.SendAsync(new byte[] { 3 }, a.LocalEndPoint, ct); // dropped
        await logger.WaitForAsync(QueueFullEvent, times: 2);
        release.Set();

        Assert.Equal([0], (await adapterA.NextAsync()).Payload);
        Assert.Equal([1], (await adapterA.NextAsync()).Payload);
        await raw.SendAsync(new byte[] { 4 }, a.LocalEndPoint, ct); // the queue has room again
        Assert.Equal([4], (await adapterA.NextAsync()).Payload);
        UdpGossipStats stats = a.Stats;
        Assert.Equal(2, stats.ReceivedQueueFull);
        Assert.Equal(5, stats.DatagramsReceived);
        Assert.Equal(3, stats.DatagramsDelivered);
    }

    [Fact]
    public async Task Pushes_to_invalid_addresses_or_over_the_mtu_are_dropped_and_counted()
    {
        (UdpGossipTransport a, RecordingAdapter adapterA) = await StartAsync(o => o.Mtu = 100);

        adapterA.Push([1], to: "not an address");
        adapterA.Push([1], to: "127.0.0.1:0");
        adapterA.Push([1], to: "[::1]:5000"); // IPv6 on an IPv4 socket
        adapterA.Push(new byte[101], to: "127.0.0.1:5000");

        UdpGossipStats stats = a.Stats;
        Assert.Equal(3, stats.SendInvalidAddress);
        Assert.Equal(1, stats.SendOversize);
        Assert.Equal(0, stats.DatagramsSent);
    }

    [Fact]
    public async Task Seeds_that_are_not_host_and_port_are_counted_and_skipped()
    {
        (UdpGossipTransport a, _) = await StartAsync(o =>
        {
            o.SeedPeers.Add("no-port");
            o.SeedPeers.Add("127.0.0.1:0");
        });

        Assert.Equal(2, a.Stats.UnresolvedSeeds);
        Assert.Equal(0, a.Stats.Peers);
    }

    [Fact]
    public async Task Dispose_stops_the_loop_and_frees_the_port()
    {
        var adapter = new RecordingAdapter();
        _adapters.Add(adapter);
        var transport = new UdpGossipTransport(adapter, Options(), time: _time);
        await transport.StartAsync(TestContext.Current.CancellationToken);
        IPEndPoint bound = transport.LocalEndPoint;
        Assert.False(transport.ReceiveLoop.IsCompleted);

        await transport.DisposeAsync();

        Assert.True(transport.ReceiveLoop.IsCompletedSuccessfully);
        adapter.Payload = [1];
        Assert.Equal(0, transport.GossipRound());
        adapter.Push([1], to: "127.0.0.1:9");
        Assert.Equal(0, transport.Stats.DatagramsSent);
        using var rebound = new UdpClient(bound); // the socket is closed
        await transport.DisposeAsync(); // twice is fine
    }

    [Fact]
    public async Task Starting_twice_is_an_error()
    {
        (UdpGossipTransport a, _) = await StartAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => a.StartAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Invalid_options_are_rejected_before_binding()
    {
        using var adapter = new RecordingAdapter();

        Assert.Throws<ArgumentException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { BindAddress = "localhost" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { Mtu = UdpGossipOptions.MaxMtu + 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { Fanout = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { GossipInterval = TimeSpan.Zero }));
    }

    [Fact]
    public async Task By_default_the_socket_listens_on_loopback_only()
    {
        using var adapter = new RecordingAdapter();
        await using var transport = new UdpGossipTransport(adapter, new UdpGossipOptions());

        Assert.Equal("127.0.0.1", new UdpGossipOptions().BindAddress);
        Assert.Equal(IPAddress.Loopback, transport.LocalEndPoint.Address);
    }

    [Fact]
    public void Rate_limits_and_the_peer_timeout_are_validated()
    {
        using var adapter = new RecordingAdapter();

        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { PeerTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { PeerReceiveLimit = default }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { StrangerReceiveLimit = new(10, double.PositiveInfinity) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { StrangerReceiveLimitPerAddress = new(-1, 1) }));

        // A send budget must hold one datagram of the MTU, or nothing could ever be sent to a stranger.
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { Mtu = 1400, StrangerSendLimitPerAddress = new(1399, 100) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpGossipTransport(adapter, new UdpGossipOptions { Mtu = 1400, StrangerSendLimit = new(1399, 100) }));
    }

    [Fact]
    public void Defaults_are_memberlists_lan_values_and_the_budgets_reasoned_in_the_docs()
    {
        var options = new UdpGossipOptions();

        Assert.Equal(TimeSpan.FromSeconds(90), options.PeerTimeout);
        Assert.Equal(new UdpRateLimit(512, 100), options.PeerReceiveLimit);
        Assert.Equal(new UdpRateLimit(40, 20), options.StrangerReceiveLimitPerAddress);
        Assert.Equal(new UdpRateLimit(400, 200), options.StrangerReceiveLimit);
        Assert.Equal(new UdpRateLimit(65_536, 8_192), options.StrangerSendLimitPerAddress);
        Assert.Equal(new UdpRateLimit(262_144, 65_536), options.StrangerSendLimit);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.GossipInterval);
        Assert.Equal(3, options.Fanout);
        Assert.Equal(1400, options.Mtu);
        Assert.Equal(1024, options.MaxQueuedDatagrams);
        Assert.Equal(4096, options.MaxPeers);
        Assert.Equal(0, options.Port);
    }

    private static string Text(IPEndPoint endPoint) => endPoint.ToString();

    private static UdpGossipOptions Options(Action<UdpGossipOptions>? configure = null)
    {
        var options = new UdpGossipOptions { BindAddress = "127.0.0.1", Port = 0 };
        configure?.Invoke(options);
        return options;
    }

    private async Task<(UdpGossipTransport Transport, RecordingAdapter Adapter)> StartAsync(Action<UdpGossipOptions>? configure = null, SignalingLogger? logger = null)
    {
        var adapter = new RecordingAdapter();
        _adapters.Add(adapter);
        var transport = new UdpGossipTransport(adapter, Options(configure), logger, time: _time);
        _transports.Add(transport);
        await transport.StartAsync(TestContext.Current.CancellationToken);
        return (transport, adapter);
    }
}
