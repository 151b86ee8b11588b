using System.Security.Cryptography;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

public sealed class GossipAdapterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Capabilities_gossip_cannot_carry_are_refused_naming_why_and_the_last_good_ones_stay()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("laptop", time);
        using var b = new GossipNodeFixture("desktop", time);

        // Another node's capabilities.
        ArgumentException other = Assert.Throws<ArgumentException>(() => a.Adapter.SetCapabilities(new NodeCapabilities("desktop", 2)));
        Assert.Contains("'desktop' given to node 'laptop'", other.Message, StringComparison.Ordinal);

        // A model id the factor model takes (128 characters) but gossip does not: 128 x "é" is 256
        // UTF-8 bytes after a one-byte length. Named, with its size; 127 of them (254 bytes) travel.
        string tooLong = new('é', ServedModel.MaxModelIdLength);
        ArgumentException id = Assert.Throws<ArgumentException>(() => a.Adapter.SetCapabilities(new NodeCapabilities("laptop", 2) { Models = [new ServedModel(tooLong)] }));
        Assert.Contains($"'{tooLong}' is 256 UTF-8 bytes; gossip carries at most 255", id.Message, StringComparison.Ordinal);
        ArgumentException via = Assert.Throws<ArgumentException>(() => a.Adapter.SetCapabilities(new NodeCapabilities("laptop", 2) { Relays = [new RelayRoute(tooLong, "gw", 1)] }));
        Assert.Contains("is 256 UTF-8 bytes", via.Message, StringComparison.Ordinal);

        // More than one message holds: said so.
        ServedModel[] many = [.. Enumerable.Range(0, NodeCapabilities.MaxModels).Select(i => new ServedModel($"{new string('m', 100)}-{i:00}"))];
        ArgumentException big = Assert.Throws<ArgumentException>(() => a.Adapter.SetCapabilities(new NodeCapabilities("laptop", 2) { Models = [.. many] }));
        Assert.Contains("do not fit one", big.Message, StringComparison.Ordinal);

        // Nothing refused replaced what the node serves; the longest id that fits reaches a peer.
        a.GossipTo(b);
        Assert.Equal(GossipNodeFixture.Model, Assert.Single(b.Find("laptop")!.Capabilities.Models).ModelId);
        string longest = new('é', ServedModel.MaxModelIdLength - 1);
        a.Adapter.SetCapabilities(new NodeCapabilities("laptop", 2) { Models = [new ServedModel(longest)] });
        time.Advance(TimeSpan.FromSeconds(1));
        a.GossipTo(b);
        Assert.Equal(longest, Assert.Single(b.Find("laptop")!.Capabilities.Models).ModelId);
    }

    [Fact]
    public void Each_merged_state_records_how_old_it_was_relays_included()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("laptop", time);
        using var b = new GossipNodeFixture("desktop", time);
        using var c = new GossipNodeFixture("gpu-box", time);
        using var atB = new MetricCollector<double>(b.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.gossip.state_age");
        using var atC = new MetricCollector<double>(c.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.gossip.state_age");

        // a reads its machine and publishes; its message leaves 2 s later.
        a.Round();
        time.Advance(TimeSpan.FromSeconds(2));
        b.Deliver(a.Pull(), a.NodeId); // held until a answers b's challenge, then merged
        Assert.NotNull(b.Find(a.NodeId));
        Assert.Equal(2.0, Assert.Single(atB.GetMeasurementSnapshot()).Value, 2);

        // b relays it 1.5 s later with its own, read just now: a's state arrives 3.5 s old.
        time.Advance(TimeSpan.FromSeconds(1.5));
        b.GossipTo(c);
        double[] ages = [.. atC.GetMeasurementSnapshot().Select(m => m.Value).Order()];
        Assert.Equal(2, ages.Length);
        Assert.Equal(0.0, ages[0], 2);
        Assert.Equal(3.5, ages[1], 2);

        // A replay changes nothing and records nothing.
        byte[] again = b.Pull();
        c.Deliver(again, b.NodeId);
        Assert.Equal(2, atC.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public void A_published_state_reaches_a_peer_with_its_factors_and_capabilities()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("laptop", time);
        using var b = new GossipNodeFixture("desktop", time);
        a.Conditions.Source = PowerSource.Battery;
        a.Conditions.BatteryPercent = 42.5;
        a.Conditions.Cpu = 0.37;
        a.Conditions.Metered = true;
        a.Conditions.QueueDepth = 3;

        a.GossipTo(b);

        MeshNode? seen = b.Find("laptop");
        Assert.NotNull(seen);
        Assert.False(seen.IsLocal);
        Assert.Equal(NodeLiveness.Alive, seen.Liveness);
        Assert.Equal(PowerSource.Battery, seen.Factors.Power.Source.Value);
        Assert.Equal(42.5, seen.Factors.Power.BatteryPercent.Value, 2);
        Assert.Equal(0.37, seen.Factors.Compute.CpuUtilization.Value, 4);
        Assert.True(seen.Factors.Network.Metered.Value);
        Assert.Equal(3, seen.Factors.Pending.QueueDepth.Value);
        Assert.Equal(SignalQuality.Measured, seen.Factors.Compute.CpuUtilization.Quality);
        ServedModel model = Assert.Single(seen.Capabilities.Models);
        Assert.Equal(GossipNodeFixture.Model, model.ModelId);
        Assert.Equal(20, model.DecodeTokensPerSecond);
        Assert.Equal(4, model.ParallelSlots);

        // The receiving node's own entry sits beside it, marked local.
        b.Round();
        Assert.Contains(b.View.Nodes, n => n.NodeId == "desktop" && n.IsLocal);
        Assert.Equal(2, b.View.Nodes.Count);
    }

    [Fact]
    public void Replayed_duplicated_and_reordered_messages_leave_the_newest_state()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time);
        using var b = new GossipNodeFixture("b", time);

        a.Conditions.Cpu = 0.1;
        a.Round();
        byte[] first = a.Pull();
        time.Advance(TimeSpan.FromSeconds(2));
        a.Conditions.Cpu = 0.9;
        a.Round();
        byte[] second = a.Pull();
        Assert.NotEmpty(first);
        Assert.NotEmpty(second);

        b.Deliver(second, "a");
        b.Deliver(first, "a");
        b.Deliver(second, "a");
        b.Deliver(first, "a");

        Assert.Equal(0.9, b.Find("a")!.Factors.Compute.CpuUtilization.Value, 3);

        // The newest state and the capabilities merged once; every other record was recognised as old.
        Assert.Equal(2, b.Adapter.Statistics.Merged);
        Assert.Equal(6, b.Adapter.Statistics.Stale);
    }

    [Fact]
    public void A_sender_whose_clock_is_an_hour_off_still_gives_correct_ages()
    {
        var senderClock = new FakeTimeProvider(Start + TimeSpan.FromHours(1));
        var receiverClock = new FakeTimeProvider(Start);
        var wire = new TestWire();
        using var a = new GossipNodeFixture("skewed", senderClock, wire: wire);
        using var b = new GossipNodeFixture("b", receiverClock, wire: wire);

        a.Round();
        senderClock.Advance(TimeSpan.FromSeconds(3));
        receiverClock.Advance(TimeSpan.FromSeconds(3));
        byte[] message = a.Pull();
        b.Deliver(message, "skewed");

        // Observed 3 s before the message was written, on the receiver's clock: its now minus 3 s.
        DateTimeOffset observed = b.Find("skewed")!.Factors.Compute.CpuUtilization.ObservedAt!.Value;
        TimeSpan age = receiverClock.GetUtcNow() - observed;
        Assert.InRange(age, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3.1));
    }

    [Fact]
    public void A_wrong_key_or_no_key_is_refused_when_a_key_is_configured()
    {
        var time = new FakeTimeProvider(Start);
        string key = NewKey();
        using var signed = new GossipNodeFixture("signed", time, o => o.Keys = [key]);
        using var wrong = new GossipNodeFixture("wrong", time, o => o.Keys = [NewKey()]);
        using var open = new GossipNodeFixture("open", time, GossipNodeFixture.Unauthenticated);
        using var receiver = new GossipNodeFixture("receiver", time, o => o.Keys = [key]);

        wrong.GossipTo(receiver);
        open.GossipTo(receiver);
        Assert.Null(receiver.Find("wrong"));
        Assert.Null(receiver.Find("open"));
        Assert.Equal(2, receiver.Adapter.Statistics.Rejected);

        signed.GossipTo(receiver);
        Assert.NotNull(receiver.Find("signed"));

        // A signed message is no use to a node without the key either (it cannot check it).
        signed.Conditions.Cpu = 0.99;
        time.Advance(TimeSpan.FromSeconds(2));
        signed.GossipTo(open);
        Assert.Null(open.Find("signed"));
    }

    [Fact]
    public void Flipping_any_bit_of_a_signed_message_gets_it_refused()
    {
        var time = new FakeTimeProvider(Start);
        string key = NewKey();
        using var a = new GossipNodeFixture("a", time, o => o.Keys = [key]);
        using var b = new GossipNodeFixture("b", time, o => o.Keys = [key]);
        a.Round();
        byte[] message = a.Pull();
        IReadOnlyList<MeshNode> before = b.View.Nodes;

        for (int bit = 0; bit < message.Length * 8; bit++)
        {
            byte[] flipped = (byte[])message.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            b.Adapter.Receive(flipped, "a");
        }

        Assert.Same(before, b.View.Nodes);
        Assert.Equal(message.Length * 8, b.Adapter.Statistics.Rejected);
    }

    [Fact]
    public void Key_rotation_keeps_the_mesh_talking()
    {
        var time = new FakeTimeProvider(Start);
        string oldKey = NewKey();
        string newKey = NewKey();
        using var a = new GossipNodeFixture("a", time, settings: Keys(oldKey));
        using var b = new GossipNodeFixture("b", time, settings: Keys(oldKey));

        long version = 0;
        void Exchange(string step)
        {
            time.Advance(TimeSpan.FromSeconds(6));
            a.GossipTo(b);
            long now = b.Find("a")?.Factors.Version ?? 0;
            Assert.True(now > version, $"b did not hear a after: {step}");
            version = now;
        }

        Exchange("start");

        // 1. Install the new key everywhere (the old one still signs).
        Reload(a, oldKey, newKey);
        Reload(b, oldKey, newKey);
        Exchange("install");

        // 2. Make it primary, one node at a time: both keys still verify everywhere.
        Reload(a, newKey, oldKey);
        Exchange("a signs with the new key");
        Reload(b, newKey, oldKey);
        Exchange("b switched too");

        // 3. Remove the old key.
        Reload(a, newKey);
        Reload(b, newKey);
        Exchange("old key removed");
        Assert.Equal(0, b.Adapter.Statistics.Rejected);

        // A node still signing with the removed key is now refused.
        using var stale = new GossipNodeFixture("stale", time, settings: Keys(oldKey));
        stale.GossipTo(b);
        Assert.Null(b.Find("stale"));
    }

    private static Dictionary<string, string?> Keys(params string[] keys)
    {
        var settings = new Dictionary<string, string?>();
        for (int i = 0; i < keys.Length; i++)
        {
            settings[$"CostModel:Gossip:Keys:{i}"] = keys[i];
        }

        return settings;
    }

    [Fact]
    public void A_node_heard_of_only_through_its_capabilities_ages_out_and_may_come_back()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        b.Round();
        int before = b.View.Count;
        using GossipKeyring keyring = GossipKeyring.FromBase64([GossipNodeFixture.TestKey]);
        var relay = new RawPeer("10.0.0.9:7946", b.Wire, time, keyring);
        byte[] capabilitiesOnly() => relay.Message(MessageType.Gossip, RawPeer.CapabilitiesRecord("ghost", 1, new NodeCapabilities("ghost", 1) { Models = [new ServedModel(GossipNodeFixture.Model)] }));

        relay.SendTo(b, capabilitiesOnly());
        Assert.Equal(before + 1, b.View.Count);

        // Still held while a silent node with state would still be (dead after 30 s, removed 60 s later).
        time.Advance(GossipDefaults.DeadAfter + GossipDefaults.RemoveAfter - TimeSpan.FromSeconds(5));
        b.Round();
        Assert.Equal(before + 1, b.View.Count);

        time.Advance(TimeSpan.FromSeconds(10));
        b.Round();
        Assert.Equal(before, b.View.Count);

        // No tombstone: it never sent a state that could come back stale.
        relay.SendTo(b, capabilitiesOnly());
        Assert.Equal(before + 1, b.View.Count);
    }

    private static void Reload(GossipNodeFixture node, params string[] keys) => node.Settings.Replace(Keys(keys));

    [Fact]
    public void A_silent_node_becomes_suspect_then_dead_then_leaves_and_its_old_generation_never_returns()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time);
        using var b = new GossipNodeFixture("b", time);
        var changes = new List<MeshChange>();
        using IDisposable subscription = b.View.Changes.Subscribe(changes.Add);

        // Regular heartbeats for a minute build a history of 5 s intervals.
        for (int i = 0; i < 12; i++)
        {
            a.GossipTo(b);
            time.Advance(TimeSpan.FromSeconds(5));
        }

        a.GossipTo(b);
        byte[] last = a.Pull();
        Assert.Equal(NodeLiveness.Alive, b.Find("a")!.Liveness);

        // Then a stops. b's rounds notice.
        var seen = new List<NodeLiveness>();
        for (int second = 0; second < 120 && b.Find("a") is { } node; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            b.Round();
            if (b.Find("a") is { } now && (seen.Count == 0 || seen[^1] != now.Liveness))
            {
                seen.Add(now.Liveness);
            }
        }

        Assert.Equal([NodeLiveness.Alive, NodeLiveness.Suspect, NodeLiveness.Dead], seen);
        Assert.Null(b.Find("a"));
        Assert.Equal(
            [MeshChangeKind.Joined, MeshChangeKind.Suspect, MeshChangeKind.Dead, MeshChangeKind.Removed],
            changes.Where(c => c.NodeId == "a" && c.Kind != MeshChangeKind.Updated).Select(c => c.Kind));

        // A late copy of its last message does not bring the old generation back.
        b.Deliver(last, "a");
        Assert.Null(b.Find("a"));
    }

    [Fact]
    public void A_suspect_node_that_speaks_again_recovers()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time);
        using var b = new GossipNodeFixture("b", time);
        for (int i = 0; i < 6; i++)
        {
            a.GossipTo(b);
            time.Advance(TimeSpan.FromSeconds(5));
        }

        for (int second = 0; second < 25 && b.Find("a")!.Liveness == NodeLiveness.Alive; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            b.Round();
        }

        Assert.Equal(NodeLiveness.Suspect, b.Find("a")!.Liveness);
        a.GossipTo(b);
        Assert.Equal(NodeLiveness.Alive, b.Find("a")!.Liveness);
    }

    [Fact]
    public void A_joining_node_gets_the_full_state_from_a_seed_in_replies_addressed_to_it()
    {
        var time = new FakeTimeProvider(Start);
        using var seed = new GossipNodeFixture("seed", time);
        using var joiner = new GossipNodeFixture("joiner", time);
        var others = Enumerable.Range(0, 30).Select(i => new GossipNodeFixture($"node-{i:00}", time)).ToList();
        try
        {
            seed.Round();
            foreach (GossipNodeFixture other in others)
            {
                other.GossipTo(seed);
            }

            var replies = new List<GossipMessage>();
            using IDisposable subscription = seed.Adapter.Outgoing.Subscribe(m =>
            {
                if (m.Payload.Span[3] == (byte)MessageType.SyncReply)
                {
                    replies.Add(m);
                }
            });
            joiner.Round();
            byte[] request = new byte[GossipDefaults.Mtu];
            int length = joiner.Adapter.WriteSyncRequest(request);

            // The seed has never heard the joiner: it holds the request, challenges, and answers once the joiner echoes.
            Assert.False(seed.Deliver(request.AsSpan(0, length), "joiner"));

            Assert.NotNull(seed.Find("joiner"));
            Assert.True(replies.Count > 1, "31 states and capabilities do not fit one message");
            Assert.All(replies, r => Assert.Equal("joiner", r.To));
            Assert.All(replies, r => Assert.InRange(r.Payload.Length, 1, GossipDefaults.Mtu));
            Assert.Equal(32, joiner.View.Nodes.Count);
            Assert.All(joiner.View.Nodes.Where(n => !n.IsLocal), n => Assert.Single(n.Capabilities.Models));

            // A replayed request within the reply interval is not answered again.
            replies.Clear();
            Assert.True(seed.Deliver(request.AsSpan(0, length), "joiner"));
            Assert.Empty(replies);
        }
        finally
        {
            others.ForEach(o => o.Dispose());
        }
    }

    [Fact]
    public void New_nodes_beyond_the_cap_are_refused_and_counted_when_every_entry_is_alive_and_heard_again()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, o => o.MaxNodes = 3);
        var others = Enumerable.Range(0, 4).Select(i => new GossipNodeFixture($"n{i}", time)).ToList();
        try
        {
            // b itself and two others, each heard twice: none has a weak claim to its place.
            b.Round();
            others.Take(2).ToList().ForEach(o => o.GossipTo(b));
            time.Advance(TimeSpan.FromSeconds(6));
            others.Take(2).ToList().ForEach(o => o.GossipTo(b));
            others[2].GossipTo(b);
            Assert.Equal(3, b.View.Nodes.Count);
            Assert.Null(b.Find("n2"));
            Assert.True(b.Adapter.Statistics.Rejected >= 1);
        }
        finally
        {
            others.ForEach(o => o.Dispose());
        }
    }

    [Fact]
    public void In_a_full_view_of_nodes_heard_once_a_newcomer_takes_the_place_of_the_longest_silent()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, o => o.MaxNodes = 4);
        var others = Enumerable.Range(0, 4).Select(i => new GossipNodeFixture($"n{i}", time)).ToList();
        try
        {
            // b itself and three others, each heard once, a second apart, the middle one first.
            b.Round();
            foreach (int i in new[] { 1, 0, 2 })
            {
                others[i].GossipTo(b);
                time.Advance(TimeSpan.FromSeconds(1));
            }

            Assert.Equal(4, b.View.Nodes.Count);
            others[3].GossipTo(b);

            Assert.NotNull(b.Find("n3"));
            Assert.Null(b.Find("n1"));
            Assert.NotNull(b.Find("n0"));
            Assert.NotNull(b.Find("n2"));
        }
        finally
        {
            others.ForEach(o => o.Dispose());
        }
    }

    [Fact]
    public void A_node_the_host_describes_itself_is_not_taken_over_by_gossip_and_pushes_no_one_out()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, o => o.MaxNodes = 4);
        using var n0 = new GossipNodeFixture("n0", time);
        using var weak = new GossipNodeFixture("weak", time);
        b.Round();
        MeshNode hosts = HostEntry("n0", time);
        Assert.True(b.View.Upsert(hosts));
        weak.GossipTo(b);   // heard once: the weakest claim to a place
        long rejected = b.Adapter.Statistics.Rejected;

        n0.GossipTo(b);
        time.Advance(TimeSpan.FromSeconds(2));
        n0.GossipTo(b);

        // The view is not full (b, n0, weak): nothing is pushed out, and the host's entry stands.
        Assert.NotNull(b.Find("weak"));
        Assert.Same(hosts, b.Find("n0"));
        Assert.True(b.Adapter.Statistics.Rejected > rejected);
    }

    [Fact]
    public void A_gossip_node_the_host_has_since_described_keeps_the_host_s_entry_when_gossip_forgets_it()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        using (var n0 = new GossipNodeFixture("n0", time))
        {
            n0.GossipTo(b);
        }

        MeshNode hosts = HostEntry("n0", time);
        Assert.True(b.View.Upsert(hosts));

        // n0 falls silent: gossip finds it dead, then forgets it, but the host's entry is the host's.
        time.Advance(GossipDefaults.DeadAfter + GossipDefaults.RemoveAfter + TimeSpan.FromSeconds(5));
        b.Round();
        time.Advance(TimeSpan.FromSeconds(5));
        b.Round();

        Assert.Same(hosts, b.Find("n0"));
    }

    [Fact]
    public void Subscribers_hear_nothing_of_gossip_s_record_once_the_host_describes_the_node()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        using var n0 = new GossipNodeFixture("n0", time);
        for (int i = 0; i < 6; i++)
        {
            n0.GossipTo(b);
            time.Advance(TimeSpan.FromSeconds(5));
        }

        var changes = new List<MeshChange>();
        using IDisposable subscription = b.View.Changes.Subscribe(changes.Add);
        MeshNode hosts = HostEntry("n0", time);
        Assert.True(b.View.Upsert(hosts));

        // n0 still gossips (its states merge, a change of gossip's record each), then falls silent:
        // gossip finds it suspect, dead and forgets it. The view shows the host's entry throughout,
        // and its subscribers hear only the host's own change.
        for (int i = 0; i < 3; i++)
        {
            n0.GossipTo(b);
            time.Advance(TimeSpan.FromSeconds(5));
        }

        for (int second = 0; second < 150; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            b.Round();
        }

        Assert.Same(hosts, b.Find("n0"));
        Assert.Equal([MeshChangeKind.Updated], changes.Where(c => c.NodeId == "n0").Select(c => c.Kind));
    }

    [Fact]
    public void A_gossip_node_the_host_removed_stays_out_and_its_states_are_no_change_to_subscribers()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        using var n0 = new GossipNodeFixture("n0", time);
        n0.GossipTo(b);
        Assert.True(b.View.Remove("n0"));
        var changes = new List<MeshChange>();
        using IDisposable subscription = b.View.Changes.Subscribe(changes.Add);

        for (int i = 0; i < 4; i++)
        {
            time.Advance(GossipDefaults.MaxSilence);
            n0.GossipTo(b);
        }

        Assert.Null(b.Find("n0"));
        Assert.Empty(changes);
    }

    [Fact]
    public void A_full_view_pushes_out_no_record_whose_place_the_host_holds()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, o => o.MaxNodes = 3);
        using var n0 = new GossipNodeFixture("n0", time);
        using var strong = new GossipNodeFixture("strong", time);
        using var newcomer = new GossipNodeFixture("newcomer", time);
        b.Round();
        n0.GossipTo(b);                 // heard once: the weakest claim to a place
        strong.GossipTo(b);
        time.Advance(GossipDefaults.MaxSilence);
        strong.GossipTo(b);             // a second state, at its heartbeat: never pushed out
        MeshNode hosts = HostEntry("n0", time);
        Assert.True(b.View.Upsert(hosts));
        var changes = new List<MeshChange>();
        using IDisposable subscription = b.View.Changes.Subscribe(changes.Add);

        // Forgetting gossip's record of n0 would free no place (the host's entry holds it), so the
        // newcomer is refused with nothing removed and nothing said of n0.
        newcomer.GossipTo(b);

        Assert.Null(b.Find("newcomer"));
        Assert.NotNull(b.Find("strong"));
        Assert.Same(hosts, b.Find("n0"));
        Assert.DoesNotContain(changes, c => c.NodeId == "n0");
    }

    private static MeshNode HostEntry(string nodeId, FakeTimeProvider time) =>
        new(new NodeCostFactors(nodeId, 1, 1, time.GetUtcNow()), new NodeCapabilities(nodeId, 1) { Models = [new ServedModel(GossipNodeFixture.Model)] });

    [Fact]
    public void A_generation_from_implausibly_far_ahead_is_refused()
    {
        var future = new FakeTimeProvider(Start + TimeSpan.FromDays(3));
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("from-the-future", future);
        using var b = new GossipNodeFixture("b", time);
        a.GossipTo(b);
        Assert.Null(b.Find("from-the-future"));
        Assert.True(b.Adapter.Statistics.Rejected >= 1);
    }

    [Fact]
    public void A_restarted_node_replaces_its_old_generation()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        using (var first = new GossipNodeFixture("a", time))
        {
            first.Conditions.Cpu = 0.9;
            first.GossipTo(b);
        }

        time.Advance(TimeSpan.FromSeconds(10));
        using var second = new GossipNodeFixture("a", time);
        second.Conditions.Cpu = 0.1;
        second.GossipTo(b);
        MeshNode seen = b.Find("a")!;
        Assert.Equal(0.1, seen.Factors.Compute.CpuUtilization.Value, 3);
        Assert.Equal(1, seen.Factors.Version);
        Assert.True(seen.Factors.Generation > Start.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void In_push_mode_the_timer_publishes_on_start_on_significant_change_and_as_a_heartbeat()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time, o => o.Dissemination = GossipDissemination.Push);
        using var b = new GossipNodeFixture("b", time);
        var pushed = new List<GossipMessage>();
        using IDisposable subscription = a.Adapter.Outgoing.Subscribe(pushed.Add);

        a.Adapter.Start();
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.NotEmpty(pushed);
        Assert.All(pushed, m => Assert.Null(m.To));
        foreach (GossipMessage message in pushed.ToArray())
        {
            b.Deliver(message.Payload.Span, "a");
        }

        Assert.NotNull(b.Find("a"));
        long published = a.Adapter.Statistics.Published;

        // Jitter below the threshold for 5 s: nothing new but the heartbeat at the maximum silence.
        for (int i = 0; i < 25; i++)
        {
            a.Conditions.Cpu = i % 2 == 0 ? 0.21 : 0.2;
            time.Advance(TimeSpan.FromMilliseconds(200));
        }

        Assert.Equal(published + 1, a.Adapter.Statistics.Published); // the 5 s heartbeat, nothing else

        // A large change publishes at the next sample.
        a.Conditions.Cpu = 0.95;
        pushed.Clear();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(published + 2, a.Adapter.Statistics.Published);
        foreach (GossipMessage message in pushed.ToArray())
        {
            b.Deliver(message.Payload.Span, "a");
        }

        Assert.Equal(0.95, b.Find("a")!.Factors.Compute.CpuUtilization.Value, 3);
    }

    [Fact]
    public void A_draining_battery_travels_with_its_trend()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("laptop", time);
        using var b = new GossipNodeFixture("b", time);
        a.Conditions.Source = PowerSource.Battery;
        a.Conditions.BatteryPercent = 80;

        // 2 % a minute for five minutes, sampled every 10 s.
        for (int i = 0; i <= 30; i++)
        {
            a.Round();
            time.Advance(TimeSpan.FromSeconds(10));
            a.Conditions.BatteryPercent -= 2.0 / 6;
        }

        a.GossipTo(b);
        Reading<double> trend = b.Find("laptop")!.Factors.Trends.BatteryPercentPerHour;
        Assert.Equal(SignalQuality.Estimated, trend.Quality);
        Assert.Equal(-120, trend.Value, 1.0);
    }
}
