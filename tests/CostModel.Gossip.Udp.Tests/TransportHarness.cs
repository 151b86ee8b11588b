using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// Transports with <see cref="RecordingAdapter"/>s on 127.0.0.1 and a fake clock (budgets refill
/// and peers age only when a test advances it), plus raw sockets playing peers and strangers.
/// Everything made here is disposed with it.
/// </summary>
internal sealed class TransportHarness : IAsyncDisposable
{
    /// <summary>Event ids of the transport's log (Log.cs) that tests wait for.</summary>
    public const int QueueFullEvent = 4505;
    public const int PeerEvictedEvent = 4513;
    public const int ReceiveLimitedEvent = 4515;
    public const int PeerAdmittedEvent = 4517;

    private readonly List<UdpGossipTransport> _transports = [];
    private readonly List<RecordingAdapter> _adapters = [];
    private readonly List<UdpClient> _sockets = [];

    public FakeTimeProvider Time { get; } = new();

    public static string Text(IPEndPoint endPoint) => endPoint.ToString();

    public static string Text(UdpClient socket) => Text((IPEndPoint)socket.Client.LocalEndPoint!);

    public async Task<(UdpGossipTransport Transport, RecordingAdapter Adapter)> StartAsync(Action<UdpGossipOptions>? configure = null, SignalingLogger? logger = null)
    {
        var options = new UdpGossipOptions { BindAddress = "127.0.0.1", Port = 0 };
        configure?.Invoke(options);
        var adapter = new RecordingAdapter();
        _adapters.Add(adapter);
        var transport = new UdpGossipTransport(adapter, options, logger, time: Time);
        _transports.Add(transport);
        await transport.StartAsync(TestContext.Current.CancellationToken);
        return (transport, adapter);
    }

    /// <summary>A raw UDP socket on 127.0.0.1 with its own ephemeral port.</summary>
    public UdpClient Socket()
    {
        var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _sockets.Add(socket);
        return socket;
    }

    public static async Task SendAsync(UdpClient from, byte[] payload, UdpGossipTransport to) =>
        await from.SendAsync(payload, to.LocalEndPoint, TestContext.Current.CancellationToken);

    /// <summary>The next datagram <paramref name="socket"/> receives, with a bounded wait.</summary>
    public static async Task<byte[]> ReceiveAsync(UdpClient socket)
    {
        UdpReceiveResult result = await socket.ReceiveAsync(TestContext.Current.CancellationToken).AsTask()
            .WaitAsync(RecordingAdapter.Timeout, TestContext.Current.CancellationToken);
        return result.Buffer;
    }

    /// <summary>The next <paramref name="count"/> datagrams the adapter recorded (in delivery order).</summary>
    public static async Task<List<(byte[] Payload, string From)>> NextAsync(RecordingAdapter adapter, int count)
    {
        var records = new List<(byte[] Payload, string From)>(count);
        for (int i = 0; i < count; i++)
        {
            records.Add(await adapter.NextAsync());
        }

        return records;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (UdpGossipTransport transport in _transports)
        {
            await transport.DisposeAsync();
        }

        foreach (RecordingAdapter adapter in _adapters)
        {
            adapter.Dispose();
        }

        foreach (UdpClient socket in _sockets)
        {
            socket.Dispose();
        }
    }
}
