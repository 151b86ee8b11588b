using System.Reactive.Subjects;
using CostModel.Gossip;
using CostModel.Testing.Gossip;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

public sealed class InMemoryNetworkTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryNetwork _network;
    private readonly Dictionary<string, List<(byte[] Payload, string From)>> _received = [];

    public InMemoryNetworkTests() => _network = new InMemoryNetwork(_time, seed: 42);

    public void Dispose() => _network.Dispose();

    [Fact]
    public void A_perfect_link_delivers_a_copy_at_once()
    {
        AddEndpoints("a", "b");
        byte[] payload = [1, 2, 3];

        _network.Send("a", "b", payload);
        payload[0] = 9;

        (byte[] got, string from) = Assert.Single(_received["b"]);
        Assert.Equal([1, 2, 3], got);
        Assert.Equal("a", from);
        Assert.Empty(_received["a"]);
    }

    [Fact]
    public void Loss_rate_is_near_the_configured_probability()
    {
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { LossProbability = 0.3 };
        const int Sends = 10_000;

        for (int i = 0; i < Sends; i++)
        {
            _network.Send("a", "b", [1]);
        }

        TrafficCounters total = _network.Total;
        Assert.Equal(0.3, (double)total.Lost.Messages / Sends, 0.02);
        Assert.Equal(Sends, total.Lost.Messages + total.Delivered.Messages);
        Assert.Equal(total.Delivered.Messages, _received["b"].Count);
    }

    [Fact]
    public void Reused_buffers_deliver_each_message_exactly_as_sent()
    {
        // In-flight copies live in pooled buffers: a short message after a long one, both in flight
        // together and then one after the other, must not carry the longer one's bytes or length.
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(5) };
        byte[] longer = [.. Enumerable.Range(1, 900).Select(i => (byte)i)];

        _network.Send("a", "b", longer);
        _network.Send("a", "b", [42, 43]);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        _network.Send("a", "b", [7]);
        _network.Send("a", "b", []);
        _time.Advance(TimeSpan.FromMilliseconds(5));

        Assert.Equal([longer, [42, 43], [7], []], _received["b"].Select(r => r.Payload));
        Assert.Equal(900 + 2 + 1, _network.Total.Delivered.Bytes);
    }

    [Fact]
    public void A_larger_default_mtu_gets_buffers_as_long_as_its_messages()
    {
        // Pooled buffers are as long as the default link's MTU: after the MTU grows, a message longer
        // than the old buffers must not be copied into one of them (it would not fit), and after it
        // shrinks again a short buffer must still carry each message exactly.
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(5) };
        byte[] full = [.. Enumerable.Range(0, LinkConditions.DefaultMtu).Select(i => (byte)i)];
        _network.Send("a", "b", full);
        _network.Send("a", "b", full);
        _time.Advance(TimeSpan.FromMilliseconds(5));

        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(5), Mtu = 1_900 };
        byte[] longer = [.. Enumerable.Range(0, 1_900).Select(i => (byte)(i * 7))];
        _network.Send("a", "b", longer);
        _network.Send("a", "b", longer);
        _time.Advance(TimeSpan.FromMilliseconds(5));

        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(5) };
        _network.Send("a", "b", [5, 6]);
        _network.Send("a", "b", full);
        _time.Advance(TimeSpan.FromMilliseconds(5));

        Assert.Equal([full, full, longer, longer, [5, 6], full], _received["b"].Select(r => r.Payload));
    }

    [Fact]
    public void A_per_link_condition_overrides_the_default_in_one_direction_only()
    {
        AddEndpoints("a", "b");
        _network.SetLink("a", "b", new LinkConditions { LossProbability = 1 });

        _network.Send("a", "b", [1]);
        _network.Send("b", "a", [2]);

        Assert.Empty(_received["b"]);
        Assert.Single(_received["a"]);
        Assert.Equal(1, _network.CountersOf("a").Lost.Messages);

        _network.SetLink("a", "b", null);
        _network.Send("a", "b", [3]);
        Assert.Single(_received["b"]);
    }

    [Fact]
    public void Delay_is_respected_on_the_time_provider()
    {
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(100) };

        _network.Send("a", "b", [1]);
        Assert.Equal(1, _network.InFlightCount);

        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Empty(_received["b"]);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Single(_received["b"]);
        Assert.Equal(0, _network.InFlightCount);
    }

    [Fact]
    public void Without_jitter_messages_arrive_in_send_order()
    {
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(20) };

        for (byte i = 0; i < 50; i++)
        {
            _network.Send("a", "b", [i]);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Enumerable.Range(0, 50), _received["b"].Select(r => (int)r.Payload[0]));
    }

    [Fact]
    public void Jitter_reorders_messages_and_loses_none()
    {
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(10), Jitter = TimeSpan.FromMilliseconds(50) };

        for (byte i = 0; i < 100; i++)
        {
            _network.Send("a", "b", [i]);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        List<int> order = [.. _received["b"].Select(r => (int)r.Payload[0])];
        Assert.Equal(Enumerable.Range(0, 100), order.Order());
        Assert.NotEqual(Enumerable.Range(0, 100), order);
    }

    [Fact]
    public void Duplication_delivers_extra_copies_at_the_configured_rate()
    {
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { DuplicationProbability = 0.25 };
        const int Sends = 4_000;

        for (int i = 0; i < Sends; i++)
        {
            _network.Send("a", "b", [1, 2]);
        }

        TrafficCounters total = _network.Total;
        Assert.Equal(0.25, (double)total.Duplicated.Messages / Sends, 0.03);
        Assert.Equal(Sends + total.Duplicated.Messages, total.Delivered.Messages);
        Assert.Equal(2 * total.Delivered.Messages, total.Delivered.Bytes);
        Assert.Equal(total.Delivered.Messages, _received["b"].Count);
    }

    [Fact]
    public void A_partition_blocks_both_directions_until_healed()
    {
        AddEndpoints("a", "b", "c");
        _network.Partition("a");

        _network.Send("a", "b", [1]);
        _network.Send("b", "a", [2]);
        _network.Send("b", "c", [3]);

        Assert.Empty(_received["a"]);
        Assert.Empty(_received["b"]);
        Assert.Single(_received["c"]);
        Assert.Equal(2, _network.Total.Partitioned.Messages);

        _network.Heal();
        _network.Send("a", "b", [4]);
        _network.Send("b", "a", [5]);

        Assert.Single(_received["a"]);
        Assert.Single(_received["b"]);
    }

    [Fact]
    public void Partitions_add_up()
    {
        AddEndpoints("a", "b", "c", "d");
        _network.Partition("a", "b");
        _network.Partition("b", "c");

        _network.Send("a", "b", [1]); // cut by the second partition
        _network.Send("b", "c", [2]); // cut by the first
        _network.Send("a", "d", [3]); // cut by the first

        Assert.Equal(3, _network.Total.Partitioned.Messages);
        Assert.Equal(0, _network.Total.Delivered.Messages);
    }

    [Fact]
    public void Payloads_over_the_mtu_are_dropped_and_counted()
    {
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { Mtu = 100 };

        _network.Send("a", "b", new byte[101]);
        _network.Send("a", "b", new byte[100]);

        Assert.Equal(100, Assert.Single(_received["b"]).Payload.Length);
        Assert.Equal(new MessageCount(1, 101), _network.CountersOf("a").Oversize);
        Assert.Equal(new MessageCount(1, 100), _network.CountersOf("b").Delivered);
    }

    [Fact]
    public void The_default_mtu_is_memberlists_udp_buffer()
    {
        AddEndpoints("a", "b");

        _network.Send("a", "b", new byte[LinkConditions.DefaultMtu + 1]);

        Assert.Equal(1400, LinkConditions.DefaultMtu);
        Assert.Equal(1, _network.Total.Oversize.Messages);
    }

    [Fact]
    public void Messages_to_unknown_or_removed_endpoints_are_counted()
    {
        AddEndpoints("a", "b");
        _network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(10) };

        _network.Send("a", "nowhere", [1]);
        _network.Send("a", "b", [1, 2]);
        Assert.True(_network.RemoveEndpoint("b"));
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Equal(new MessageCount(2, 3), _network.CountersOf("a").UnknownEndpoint);
        Assert.Empty(_received["b"]);
        Assert.Equal(["a"], _network.Endpoints);
    }

    [Fact]
    public void Counters_add_up_under_mixed_conditions()
    {
        string[] names = ["a", "b", "c", "d"];
        AddEndpoints(names);
        _network.DefaultConditions = new LinkConditions
        {
            LossProbability = 0.1,
            DuplicationProbability = 0.1,
            Delay = TimeSpan.FromMilliseconds(5),
            Jitter = TimeSpan.FromMilliseconds(30),
            Mtu = 60,
        };
        _network.Partition("d");
        var random = new Random(7);

        for (int i = 0; i < 2_000; i++)
        {
            string from = names[random.Next(names.Length)];
            string to = random.Next(20) == 0 ? "ghost" : names[random.Next(names.Length)];
            _network.Send(from, to, new byte[random.Next(1, 80)]);
            if (i % 10 == 0)
            {
                _time.Advance(TimeSpan.FromMilliseconds(3));
                TrafficCounters during = _network.Total;
                Assert.Equal(during.Sent.Messages + during.Duplicated.Messages, during.Delivered.Messages + during.Dropped.Messages + _network.InFlightCount);
            }
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        TrafficCounters total = _network.Total;
        TrafficCounters[] each = [.. names.Append("ghost").Select(_network.CountersOf)];

        Assert.Equal(0, _network.InFlightCount);
        Assert.Equal(total.Sent + total.Duplicated, total.Delivered + total.Dropped);
        Assert.All([total.Lost, total.Duplicated, total.Oversize, total.Partitioned, total.UnknownEndpoint], c => Assert.True(c.Messages > 0));
        Assert.Equal(total.Sent, each.Aggregate(default(MessageCount), (sum, c) => sum + c.Sent));
        Assert.Equal(total.Dropped, each.Aggregate(default(MessageCount), (sum, c) => sum + c.Dropped));
        Assert.Equal(total.Delivered, each.Aggregate(default(MessageCount), (sum, c) => sum + c.Delivered));
        Assert.Equal(total.Delivered.Bytes, _received.Values.Sum(list => list.Sum(r => (long)r.Payload.Length)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_deliveries()
    {
        static List<(byte, string)> Run()
        {
            var time = new FakeTimeProvider();
            using var network = new InMemoryNetwork(time, seed: 3);
            network.DefaultConditions = new LinkConditions { LossProbability = 0.3, DuplicationProbability = 0.2, Jitter = TimeSpan.FromMilliseconds(40) };
            var got = new List<(byte, string)>();
            network.AddEndpoint("x", (payload, from) => got.Add((payload[0], from)));
            network.AddEndpoint("y", (payload, from) => got.Add((payload[0], from)));
            for (byte i = 0; i < 200; i++)
            {
                network.Send(i % 2 == 0 ? "x" : "y", i % 2 == 0 ? "y" : "x", [i]);
                time.Advance(TimeSpan.FromMilliseconds(1));
            }

            time.Advance(TimeSpan.FromSeconds(1));
            return got;
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Invalid_conditions_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _network.DefaultConditions = new LinkConditions { LossProbability = 1.5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _network.SetLink("a", "b", new LinkConditions { Delay = TimeSpan.FromSeconds(-1) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _network.SetLink("a", "b", new LinkConditions { Mtu = 0 }));
        AddEndpoints("a");
        Assert.Throws<ArgumentException>(() => _network.AddEndpoint("a", (_, _) => { }));
    }

    [Fact]
    public void An_attached_adapter_receives_and_its_addressed_messages_reach_their_peer()
    {
        var a = new RecordingAdapter();
        var b = new RecordingAdapter();
        using GossipEndpoint endpointA = _network.Attach("a", a);
        using GossipEndpoint endpointB = _network.Attach("b", b);

        a.Push([7, 7], to: "b");

        (byte[] payload, string from) = Assert.Single(b.Received);
        Assert.Equal([7, 7], payload);
        Assert.Equal("a", from);
    }

    [Fact]
    public void A_reply_sent_from_inside_a_receive_reaches_the_sender()
    {
        var a = new RecordingAdapter();
        var b = new RecordingAdapter();
        b.OnReceive = (_, from) => b.Push([2], to: from);
        using GossipEndpoint endpointA = _network.Attach("a", a);
        using GossipEndpoint endpointB = _network.Attach("b", b);

        a.Push([1], to: "b");

        Assert.Equal([2], Assert.Single(a.Received).Payload);
    }

    [Fact]
    public void An_unaddressed_message_goes_to_fanout_distinct_other_peers()
    {
        var adapters = Enumerable.Range(0, 6).Select(_ => new RecordingAdapter()).ToArray();
        GossipEndpoint[] endpoints = [.. adapters.Select((adapter, i) => _network.Attach($"n{i}", adapter, fanout: 3))];

        adapters[0].Push([5], to: null);

        Assert.Empty(adapters[0].Received);
        Assert.Equal(3, adapters.Count(a => a.Received.Count == 1));
        Assert.All(adapters, a => Assert.True(a.Received.Count <= 1));
        foreach (GossipEndpoint e in endpoints)
        {
            e.Dispose();
        }
    }

    [Fact]
    public void A_gossip_round_pulls_with_the_mtu_as_budget_and_sends_to_fanout_peers()
    {
        _network.DefaultConditions = new LinkConditions { Mtu = 500 };
        var a = new RecordingAdapter { PayloadToWrite = [4, 2] };
        var others = Enumerable.Range(0, 4).Select(_ => new RecordingAdapter()).ToArray();
        using GossipEndpoint endpointA = _network.Attach("a", a, fanout: 2);
        GossipEndpoint[] endpoints = [.. others.Select((o, i) => _network.Attach($"p{i}", o))];

        int sent = endpointA.GossipRound();

        Assert.Equal(2, sent);
        Assert.Equal(500, a.LastBudget);
        Assert.Equal(2, others.Count(o => o.Received.Count == 1 && o.Received[0].Payload.SequenceEqual(new byte[] { 4, 2 })));
        foreach (GossipEndpoint e in endpoints)
        {
            e.Dispose();
        }
    }

    [Fact]
    public void A_round_with_nothing_to_say_sends_nothing()
    {
        var a = new RecordingAdapter();
        var b = new RecordingAdapter();
        using GossipEndpoint endpointA = _network.Attach("a", a);
        using GossipEndpoint endpointB = _network.Attach("b", b);

        Assert.Equal(0, endpointA.GossipRound());
        Assert.Equal(0, _network.Total.Sent.Messages);
    }

    [Fact]
    public void A_sync_request_goes_to_the_seed()
    {
        var joiner = new RecordingAdapter();
        var seed = new RecordingAdapter();
        using GossipEndpoint j = _network.Attach("joiner", joiner);
        using GossipEndpoint s = _network.Attach("seed", seed);

        j.SendSyncRequest("seed");

        Assert.Equal(RecordingAdapter.SyncRequest, Assert.Single(seed.Received).Payload);
    }

    [Fact]
    public void Disposing_an_endpoint_detaches_its_adapter()
    {
        var a = new RecordingAdapter();
        var b = new RecordingAdapter();
        using GossipEndpoint endpointB = _network.Attach("b", b);
        GossipEndpoint endpointA = _network.Attach("a", a);

        endpointA.Dispose();
        a.Push([1], to: "b");
        _network.Send("b", "a", [2]);

        Assert.Empty(b.Received);
        Assert.Empty(a.Received);
        Assert.Equal(["b"], _network.Endpoints);
        Assert.Throws<ObjectDisposedException>(() => endpointA.GossipRound());
    }

    private void AddEndpoints(params string[] names)
    {
        foreach (string name in names)
        {
            var list = new List<(byte[], string)>();
            _received[name] = list;
            _network.AddEndpoint(name, (payload, from) => list.Add((payload.ToArray(), from)));
        }
    }

    /// <summary>Records what the network hands it; the network is what is under test.</summary>
    private sealed class RecordingAdapter : IGossipAdapter, IDisposable
    {
        public static readonly byte[] SyncRequest = [0x53, 0x59];

        private readonly Subject<GossipMessage> _outgoing = new();

        public IObservable<GossipMessage> Outgoing => _outgoing;

        public List<(byte[] Payload, string From)> Received { get; } = [];

        public Action<byte[], string>? OnReceive { get; set; }

        public byte[] PayloadToWrite { get; init; } = [];

        public int LastBudget { get; private set; }

        public void Dispose() => _outgoing.Dispose();

        public void Push(byte[] payload, string? to) => _outgoing.OnNext(new GossipMessage(payload, to));

        public int WritePayload(Span<byte> destination)
        {
            LastBudget = destination.Length;
            PayloadToWrite.CopyTo(destination);
            return PayloadToWrite.Length;
        }

        public int WriteSyncRequest(Span<byte> destination)
        {
            SyncRequest.CopyTo(destination);
            return SyncRequest.Length;
        }

        public bool Receive(ReadOnlySpan<byte> payload, string from)
        {
            byte[] copy = payload.ToArray();
            Received.Add((copy, from));
            OnReceive?.Invoke(copy, from);
            return true;
        }
    }

    [Fact]
    public void Nothing_is_deliverable_now_only_when_every_link_delays_and_nothing_in_flight_is_due()
    {
        // A clock whose timers never fire: a message due now stays in flight, as it does between
        // two events of one virtual instant before the network's timer runs.
        var clock = new InertTimers(new DateTimeOffset(2026, 12, 7, 22, 0, 0, TimeSpan.Zero));
        using var network = new InMemoryNetwork(clock, seed: 1);
        network.AddEndpoint("a", (_, _) => { });
        network.AddEndpoint("b", (_, _) => { });

        // A perfect link delivers at once: a send made now could be delivered now.
        Assert.False(network.DeliversNothingNow());

        network.DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(5) };
        Assert.True(network.DeliversNothingNow());

        // One link without delay is enough to deliver now.
        network.SetLink("b", "a", LinkConditions.Perfect);
        Assert.False(network.DeliversNothingNow());
        network.SetLink("b", "a", null);
        Assert.True(network.DeliversNothingNow());

        // A message in flight, due in 5 ms: not yet; at its due time: deliverable now.
        network.Send("a", "b", [1]);
        Assert.True(network.DeliversNothingNow());
        clock.Now += TimeSpan.FromMilliseconds(5);
        Assert.False(network.DeliversNothingNow());
    }

    private sealed class InertTimers(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new Inert();

        private sealed class Inert : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
