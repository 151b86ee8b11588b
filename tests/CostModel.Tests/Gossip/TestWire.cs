using System.Runtime.CompilerServices;
using CostModel.Gossip;

namespace CostModel.Tests.Gossip;

/// <summary>
/// Carries the messages gossip adapters address to each other (<see cref="GossipMessage.To"/>)
/// between the endpoints of one test, synchronously and in order: a queue that
/// <see cref="Pump"/> drains, so a challenge, its echo and the merges they release all happen
/// inside one delivery, with no recursion. Messages to an address nobody attached are kept in
/// <see cref="Undelivered"/> for the test to look at.
/// </summary>
internal sealed class TestWire
{
    // One wire per clock unless a test passes its own: the nodes of a test share a clock.
    private static readonly ConditionalWeakTable<TimeProvider, TestWire> ByClock = [];

    private readonly Dictionary<string, Func<byte[], string, bool>> _endpoints = new(StringComparer.Ordinal);
    private readonly Queue<(string From, string To, byte[] Bytes)> _queue = new();
    private bool _pumping;

    /// <summary>Messages addressed to nobody attached, in order.</summary>
    public List<(string From, string To, byte[] Bytes)> Undelivered { get; } = [];

    /// <summary>Every addressed message carried, in order (for counting bytes and kinds).</summary>
    public List<(string From, string To, byte[] Bytes)> Carried { get; } = [];

    public static TestWire For(TimeProvider time) => ByClock.GetValue(time, static _ => new TestWire());

    /// <summary>Attaches an adapter: bytes addressed to <paramref name="address"/> go to its Receive; what it addresses to others goes on the queue.</summary>
    public IDisposable Attach(string address, IGossipAdapter adapter)
    {
        Attach(address, (bytes, from) => adapter.Receive(bytes, from));
        IDisposable subscription = adapter.Outgoing.Subscribe(m =>
        {
            if (m.To is { } to)
            {
                Send(address, to, m.Payload.ToArray());
            }
        });
        return new Detach(() =>
        {
            subscription.Dispose();
            _endpoints.Remove(address);
        });
    }

    /// <summary>Attaches a raw endpoint (a test peer speaking the wire format itself).</summary>
    public void Attach(string address, Func<byte[], string, bool> receive) => _endpoints[address] = receive;

    /// <summary>Queues bytes from one address to another; <see cref="Pump"/> delivers them.</summary>
    public void Send(string from, string to, byte[] bytes) => _queue.Enqueue((from, to, bytes));

    /// <summary>Delivers everything queued, and what that sets off, until the wire is quiet (bounded: a loop would be a bug).</summary>
    public void Pump()
    {
        if (_pumping)
        {
            return;
        }

        _pumping = true;
        try
        {
            for (int carried = 0; _queue.TryDequeue(out var item); carried++)
            {
                Assert.True(carried < 100_000, "the wire never went quiet: messages keep setting off messages");
                Carried.Add(item);
                if (_endpoints.TryGetValue(item.To, out Func<byte[], string, bool>? receive))
                {
                    receive(item.Bytes, item.From);
                }
                else
                {
                    Undelivered.Add(item);
                }
            }
        }
        finally
        {
            _pumping = false;
        }
    }

    private sealed class Detach(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
