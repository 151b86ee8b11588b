using System.Reactive.Subjects;
using System.Threading.Channels;
using CostModel.Gossip;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>A gossip adapter that records what the transport hands it; the transport is what is under test.</summary>
internal sealed class RecordingAdapter : IGossipAdapter, IDisposable
{
    /// <summary>Long enough for a loaded CI machine; an event wait, not a sleep.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static readonly byte[] SyncRequest = "sync-request"u8.ToArray();

    private readonly Subject<GossipMessage> _outgoing = new();
    private readonly Channel<(byte[] Payload, string From)> _received = Channel.CreateUnbounded<(byte[] Payload, string From)>();

    public IObservable<GossipMessage> Outgoing => _outgoing;

    /// <summary>What <see cref="WritePayload"/> writes.</summary>
    public byte[] Payload { get; set; } = [];

    /// <summary>Runs inside <see cref="Receive"/> with the payload and sender, before the datagram is recorded (so what it pushes is sent by the time a test sees the record).</summary>
    public Action<byte[], string>? OnReceive { get; set; }

    public int WritePayloadCalls { get; private set; }

    public void Push(byte[] payload, string? to) => _outgoing.OnNext(new GossipMessage(payload, to));

    public async Task<(byte[] Payload, string From)> NextAsync() =>
        await _received.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken);

    public bool TryTake(out (byte[] Payload, string From) item) => _received.Reader.TryRead(out item);

    public int WritePayload(Span<byte> destination)
    {
        WritePayloadCalls++;
        Payload.CopyTo(destination);
        return Payload.Length;
    }

    public int WriteSyncRequest(Span<byte> destination)
    {
        SyncRequest.CopyTo(destination);
        return SyncRequest.Length;
    }

    /// <summary>What <see cref="Receive"/> answers (accepted or not); true by default. Runs after the datagram is recorded.</summary>
    public Func<byte[], string, bool> Accept { get; set; } = static (_, _) => true;

    public bool Receive(ReadOnlySpan<byte> payload, string from)
    {
        byte[] copy = payload.ToArray();
        OnReceive?.Invoke(copy, from);
        _received.Writer.TryWrite((copy, from));
        return Accept(copy, from);
    }

    public void Dispose() => _outgoing.Dispose();
}
