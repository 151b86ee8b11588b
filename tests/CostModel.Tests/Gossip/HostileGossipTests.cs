using System.Text;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>
/// Issue 12's findings against the gossip adapter, each as the input that broke it: a packet, a
/// replay, a flood, a corrected clock. docs/reliability.md lists them with these tests' names.
/// </summary>
public sealed class HostileGossipTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    // ---------------------------------------------------------------- 1. one packet kills a mesh

    [Fact]
    public void A_nan_behind_an_unknown_reading_is_refused_and_the_view_and_router_keep_working()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        b.Round();
        var attacker = new RawPeer("10.6.6.6:7946", b.Wire, time, GossipKeyring.None);
        long now = time.GetUtcNow().UtcTicks;

        // The finding's shape: the CPU-limit reading is Unknown, but its (meaningless) bytes are a NaN.
        WireNodeState poison = RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, now);
        poison.Qualities[(int)WireReading.CpuLimitCores] = SignalQuality.Unknown;
        poison.CpuLimitCores = Half.NaN;
        Assert.Equal("cpu limit without a reading", WireQuantizer.Validate(poison));

        Assert.False(attacker.SendTo(b, attacker.Message(MessageType.Gossip, RawPeer.StateRecord("poison", poison, now))));

        Assert.Null(b.Find("poison"));
        Assert.NotEmpty(b.View.Nodes);
        Assert.Equal("b", b.Router.Route(new RequestProfile(GossipNodeFixture.Model) { InputTokens = 10, OutputTokens = 10 }).TargetId);
    }

    [Fact]
    public void The_finding_s_own_89_bytes_are_refused_as_another_protocol_version()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        using var rejected = new MetricCollector<long>(b.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.gossip.rejected");
        byte[] bytes = Convert.FromHexString("434d01010050e1ef1b90f1146201450006706f69736f6e156e0a48a20101000000010000002222222211222202222205050505050505053101102700000040140000000000010000644056007e0000000000000000ded60baf");

        Assert.False(b.Deliver(bytes, "10.6.6.6:7946"));

        Assert.Null(b.Find("poison"));
        Assert.Contains(rejected.GetMeasurementSnapshot(), m => Equals(m.Tags["reason"], "other-protocol"));
    }

    [Fact]
    public void Every_stray_value_behind_a_reading_without_one_is_refused()
    {
        // For each reading: quality Unknown, its value bytes set. The encoder never writes that.
        for (int reading = 0; reading < WireNodeState.ReadingCount; reading++)
        {
            WireNodeState state = RawPeer.State(1, 1, 1);
            state.Qualities[(int)WireReading.PowerSource] = SignalQuality.Unknown;
            state.PowerSource = 0;
            state.Qualities[(int)WireReading.CpuUtilization] = SignalQuality.Unknown;
            state.CpuUtilization = 0;
            Assert.Null(WireQuantizer.Validate(state));
            SetNonZero(ref state, (WireReading)reading);
            Assert.NotNull(WireQuantizer.Validate(state));
        }
    }

    // ---------------------------------------------------------------- 2, 3. proof of senders, keys by default

    [Fact]
    public void A_first_message_is_held_until_its_sender_answers_the_challenge_and_receive_says_so()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        using GossipKeyring keyring = GossipKeyring.FromBase64([GossipNodeFixture.TestKey]);
        var sender = new RawPeer("10.0.0.2:7946", b.Wire, time, keyring) { AnswersChallenges = false };
        byte[] message = sender.Message(MessageType.Gossip, RawPeer.StateRecord("c", RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, time.GetUtcNow().UtcTicks), time.GetUtcNow().UtcTicks));

        Assert.False(sender.SendTo(b, message));
        Assert.Null(b.Find("c"));
        Assert.Single(sender.Challenges);
        Assert.Equal(1, b.Adapter.Statistics.Held);

        // Its answer proves it: the held message is merged, and what it sends next is accepted at once.
        sender.AnswersChallenges = true;
        Assert.False(sender.SendTo(b, message)); // within the challenge interval: held again, not challenged again
        time.Advance(SenderProofs.ChallengeInterval);
        Assert.False(sender.SendTo(b, message));
        Assert.NotNull(b.Find("c"));
        Assert.True(sender.SendTo(b, sender.Message(MessageType.Gossip, RawPeer.StateRecord("c", RawPeer.State(Start.ToUnixTimeMilliseconds(), 2, time.GetUtcNow().UtcTicks), time.GetUtcNow().UtcTicks))));
        Assert.Equal(2, b.Find("c")!.Factors.Version);
    }

    [Fact]
    public void Two_nodes_that_meet_and_challenge_each_other_at_once_both_prove_the_other()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time);
        using var b = new GossipNodeFixture("b", time);
        a.Round();
        b.Round();
        byte[] fromA = a.Pull();
        byte[] fromB = b.Pull();

        // Each holds the other's first message and challenges before either answer arrives.
        Assert.False(b.Adapter.Receive(fromA, "a"));
        Assert.False(a.Adapter.Receive(fromB, "b"));
        a.Wire.Pump();

        Assert.NotNull(a.Find("b"));
        Assert.NotNull(b.Find("a"));
    }

    [Fact]
    public void Gossip_without_a_key_is_refused_at_start_unless_allowed_and_then_it_warns()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "n").AddGossip();
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            OptionsValidationException refused = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<GossipAdapter>());
            Assert.Contains("AllowUnauthenticated", refused.Message, StringComparison.Ordinal);
        }

        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        var allowed = new ServiceCollection();
        allowed.AddSingleton(logs);
        allowed.AddLogging(l => l.AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider(logs)));
        allowed.AddCostModel(o => o.NodeId = "n").AddGossip().Configure<GossipOptions>(o => o.AllowUnauthenticated = true);
        using ServiceProvider open = allowed.BuildServiceProvider();
        Assert.NotNull(open.GetRequiredService<GossipAdapter>());
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 3008 && r.Level == LogLevel.Warning);
    }

    [Fact]
    public void Encrypted_gossip_hides_node_ids_and_values_from_an_eavesdropper_and_signed_gossip_does_not()
    {
        var time = new FakeTimeProvider(Start);
        using var sealer = new GossipNodeFixture("eavesdrop-me-please", time);
        using var signer = new GossipNodeFixture("readable-node-name", time, o => o.Encrypt = false);
        sealer.Round();
        signer.Round();
        byte[] sealedBytes = sealer.Pull();
        byte[] signedBytes = signer.Pull();

        Assert.Equal((byte)WireProtection.Encrypted, sealedBytes[4]);
        Assert.DoesNotContain("eavesdrop-me-please", Encoding.UTF8.GetString(sealedBytes), StringComparison.Ordinal);
        Assert.Contains("readable-node-name", Encoding.UTF8.GetString(signedBytes), StringComparison.Ordinal);

        // One key, either form: each opens the other's.
        sealer.Deliver(signedBytes, "readable-node-name");
        signer.Deliver(sealedBytes, "eavesdrop-me-please");
        Assert.NotNull(sealer.Find("readable-node-name"));
        Assert.NotNull(signer.Find("eavesdrop-me-please"));
    }

    [Fact]
    public void A_reserved_flag_bit_gets_a_message_refused_unread()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time, GossipNodeFixture.Unauthenticated);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        a.GossipTo(b);
        time.Advance(TimeSpan.FromSeconds(6));
        a.Conditions.Cpu = 0.9;
        a.Round();
        byte[] message = a.Pull();
        long merged = b.Adapter.Statistics.Merged;
        for (int bit = 2; bit < 8; bit++)
        {
            byte[] flagged = (byte[])message.Clone();
            flagged[4] |= (byte)(1 << bit);
            WireCodec.Seal(flagged, flagged.Length - WireFormat.ChecksumBytes, GossipKeyring.None);
            Assert.False(b.Deliver(flagged, "a"));
        }

        Assert.Equal(merged, b.Adapter.Statistics.Merged);
        Assert.True(b.Deliver(message, "a"));
    }

    // ---------------------------------------------------------------- 4. replays to a fresh receiver

    [Fact]
    public void A_signed_state_replayed_twenty_minutes_later_to_a_receiver_that_never_saw_its_sender_is_never_believed()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time);
        a.Round();
        byte[] captured = a.Pull();
        a.Dispose(); // the node is gone

        time.Advance(TimeSpan.FromMinutes(20));
        using var fresh = new GossipNodeFixture("fresh", time);

        // From the attacker's own address: held, challenged, never answered, dropped.
        Assert.False(fresh.Deliver(captured, "10.6.6.6:7946"));
        time.Advance(SenderProofs.ChallengeWindow * 2 + TimeSpan.FromSeconds(1));
        fresh.Round();
        Assert.Null(fresh.Find("a"));
        Assert.Equal(0, fresh.Adapter.Statistics.Merged);
    }

    [Fact]
    public void A_replay_from_the_genuine_sender_s_address_fails_on_the_sender_s_clock_even_when_the_sender_answers()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time);
        a.Round();
        byte[] captured = a.Pull();

        time.Advance(TimeSpan.FromMinutes(20));
        using var fresh = new GossipNodeFixture("fresh", time);
        using var rejected = new MetricCollector<long>(fresh.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.gossip.rejected");

        // Spoofed as from "a": the real a answers the challenge, but the held message was written 20 minutes before the answer.
        Assert.False(fresh.Deliver(captured, "a"));
        Assert.Null(fresh.Find("a"));
        Assert.Contains(rejected.GetMeasurementSnapshot(), m => Equals(m.Tags["reason"], "stale-sender-clock"));

        // a's own current gossip is believed.
        a.GossipTo(fresh);
        Assert.NotNull(fresh.Find("a"));
    }

    // ---------------------------------------------------------------- 5. sync amplification

    [Fact]
    public void A_captured_sync_request_replayed_from_many_addresses_makes_a_seed_send_less_than_it_received()
    {
        var time = new FakeTimeProvider(Start);
        using var seed = new GossipNodeFixture("seed", time);
        var members = Enumerable.Range(0, 40).Select(i => new GossipNodeFixture($"member-{i:00}", time)).ToList();
        using var joiner = new GossipNodeFixture("joiner", time);
        try
        {
            seed.Round();
            members.ForEach(m => m.GossipTo(seed));
            joiner.Round();
            byte[] request = new byte[GossipDefaults.Mtu];
            byte[] captured = request[..joiner.Adapter.WriteSyncRequest(request)];

            int before = seed.Wire.Carried.Count;
            long received = 0;
            for (int i = 0; i < 1_000; i++)
            {
                seed.Deliver(captured, $"10.9.{i % 500 / 250}.{i % 250}:7946");
                received += captured.Length;
            }

            long sent = seed.Wire.Carried.Skip(before).Where(m => m.From == "seed").Sum(m => (long)m.Bytes.Length);
            TestContext.Current.TestOutputHelper?.WriteLine($"received {received} B of replayed sync requests, sent {sent} B ({(double)sent / received:0.00}x)");
            Assert.True(sent <= received, $"sent {sent} B for {received} B received");
            Assert.DoesNotContain(seed.Wire.Carried.Skip(before), m => m.From == "seed" && m.Bytes[3] == (byte)MessageType.SyncReply);
        }
        finally
        {
            members.ForEach(m => m.Dispose());
        }
    }

    // ---------------------------------------------------------------- 6. a node that corrects its clock

    [Fact]
    public void A_node_restarted_with_its_clock_corrected_backwards_is_back_once_its_old_run_falls_silent()
    {
        var time = new FakeTimeProvider(Start);
        var aheadClock = new FakeTimeProvider(Start + TimeSpan.FromHours(1));
        long aheadGeneration = aheadClock.GetUtcNow().ToUnixTimeMilliseconds();
        var wire = new TestWire();
        using var b = new GossipNodeFixture("b", time, wire: wire);
        using (var ahead = new GossipNodeFixture("a", aheadClock, wire: wire))
        {
            for (int i = 0; i < 6; i++)
            {
                ahead.GossipTo(b);
                time.Advance(TimeSpan.FromSeconds(5));
                aheadClock.Advance(TimeSpan.FromSeconds(5));
            }
        }

        Assert.Equal(aheadGeneration, b.Find("a")!.Factors.Generation);

        // The restart: its clock now right, so its generation (start time) is an hour lower.
        using var corrected = new GossipNodeFixture("a", time, wire: wire);
        var heardBack = TimeSpan.Zero;
        for (int second = 0; second < 60; second++)
        {
            corrected.GossipTo(b);
            if (b.Find("a") is { Liveness: NodeLiveness.Alive } seen && seen.Factors.Generation < aheadGeneration)
            {
                break;
            }

            time.Advance(TimeSpan.FromSeconds(1));
            heardBack += TimeSpan.FromSeconds(1);
            b.Round();
        }

        MeshNode back = b.Find("a")!;
        Assert.Equal(NodeLiveness.Alive, back.Liveness);
        Assert.True(back.Factors.Generation < aheadGeneration);
        TestContext.Current.TestOutputHelper?.WriteLine($"back after {heardBack.TotalSeconds} s");
        Assert.True(heardBack <= GossipDefaults.DeadAfter, $"back only after {heardBack}");
    }

    [Fact]
    public void A_removed_node_s_last_run_stays_out_while_its_tombstone_lasts_and_a_tombstone_expires()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        using GossipKeyring keyring = GossipKeyring.FromBase64([GossipNodeFixture.TestKey]);
        var relay = new RawPeer("relay:7946", b.Wire, time, keyring);
        long generation = Start.ToUnixTimeMilliseconds();
        byte[] StateOf(long version, long observed) => relay.Message(MessageType.Gossip, RawPeer.StateRecord("gone", RawPeer.State(generation, version, observed), time.GetUtcNow().UtcTicks));

        relay.SendTo(b, StateOf(5, time.GetUtcNow().UtcTicks));
        long lastObserved = time.GetUtcNow().UtcTicks;
        Assert.NotNull(b.Find("gone"));
        for (int s = 0; s < 100 && b.Find("gone") is not null; s++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            b.Round();
        }

        Assert.Null(b.Find("gone"));

        // A relay of the same run, as a late peer still holds it: refused by the tombstone.
        relay.SendTo(b, StateOf(5, lastObserved));
        Assert.Null(b.Find("gone"));

        // Past the tombstone's lifetime, the same relay finds a stranger: the tombstone is gone, not kept for ever.
        time.Advance(GossipDefaults.DeadAfter + GossipDefaults.RemoveAfter + TimeSpan.FromSeconds(1));
        b.Round();
        relay.SendTo(b, StateOf(5, lastObserved));
        Assert.NotNull(b.Find("gone"));
    }

    // ---------------------------------------------------------------- 7. memory and admission under spoofing

    [Fact]
    public void A_full_view_of_forged_ids_heard_once_gives_way_to_a_real_node_that_is_alive()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, o =>
        {
            GossipNodeFixture.Unauthenticated(o);
            o.MaxNodes = 64;
        });
        b.Round();
        var forger = new RawPeer("10.6.6.6:7946", b.Wire, time, GossipKeyring.None);
        long now = time.GetUtcNow().UtcTicks;
        for (int i = 0; i < 1_000; i += 10)
        {
            byte[][] records = [.. Enumerable.Range(i, 10).Select(n => RawPeer.StateRecord($"forged-{n:0000}", RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, now), now))];
            forger.SendTo(b, forger.Message(MessageType.Gossip, records));
        }

        Assert.Equal(64, b.View.Nodes.Count);

        using var real = new GossipNodeFixture("real", time, GossipNodeFixture.Unauthenticated);
        real.GossipTo(b);
        Assert.NotNull(b.Find("real"));
        Assert.Equal(64, b.View.Nodes.Count);
    }

    // ---------------------------------------------------------------- 8. refused messages are not partly merged

    [Fact]
    public void A_valid_state_followed_by_a_malformed_record_merges_nothing()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        var sender = new RawPeer("10.0.0.2:7946", b.Wire, time, GossipKeyring.None);
        long now = time.GetUtcNow().UtcTicks;
        byte[] valid = RawPeer.StateRecord("valid", RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, now), now);
        sender.SendTo(b, sender.Message(MessageType.Gossip)); // first contact, proven
        long merged = b.Adapter.Statistics.Merged;

        byte[] truncatedRecord = [(byte)RecordKind.NodeState, 200, 0, 1, 2];
        Assert.False(sender.SendTo(b, sender.Message(MessageType.Gossip, valid, truncatedRecord)));
        WireNodeState outOfRange = RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, now);
        outOfRange.Qualities[(int)WireReading.BatteryPercent] = SignalQuality.Measured;
        outOfRange.BatteryHundredthsPercent = 10_001;
        Assert.False(sender.SendTo(b, sender.Message(MessageType.Gossip, valid, RawPeer.StateRecord("bad", outOfRange, now))));

        Assert.Equal(merged, b.Adapter.Statistics.Merged);
        Assert.Null(b.Find("valid"));
        Assert.True(sender.SendTo(b, sender.Message(MessageType.Gossip, valid)));
        Assert.NotNull(b.Find("valid"));
    }

    [Fact]
    public void A_message_with_one_record_too_many_merges_nothing()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, o =>
        {
            GossipNodeFixture.Unauthenticated(o);
            o.Mtu = GossipDefaults.MaxMtu;
        });
        var sender = new RawPeer("10.0.0.2:7946", b.Wire, time, GossipKeyring.None);
        long now = time.GetUtcNow().UtcTicks;
        byte[][] records = [.. Enumerable.Range(0, GossipDefaults.MaxRecordsPerMessage + 1).Select(i => RawPeer.StateRecord($"n{i}", RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, now), now))];
        sender.SendTo(b, sender.Message(MessageType.Gossip)); // prove first

        Assert.False(sender.SendTo(b, sender.Message(MessageType.Gossip, records)));
        Assert.Equal(0, b.Adapter.Statistics.Merged);
        Assert.True(sender.SendTo(b, sender.Message(MessageType.Gossip, records[..^1])));
        Assert.Equal(GossipDefaults.MaxRecordsPerMessage, b.Adapter.Statistics.Merged);
    }

    // ---------------------------------------------------------------- 9. Rx: one OnNext at a time, subscribers cannot hurt

    [Fact]
    public void A_throwing_outgoing_subscriber_never_reaches_receive_or_the_round_and_is_counted()
    {
        var time = new FakeTimeProvider(Start);
        using var a = new GossipNodeFixture("a", time, o => o.Dissemination = GossipDissemination.Push);
        using var failures = new MetricCollector<long>(a.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.stream.subscriber_failures");
        using IDisposable bad = a.Adapter.Outgoing.Subscribe(_ => throw new InvalidOperationException("subscriber bug"));
        using GossipKeyring keyring = GossipKeyring.FromBase64([GossipNodeFixture.TestKey]);
        var stranger = new RawPeer("10.0.0.2:7946", a.Wire, time, keyring);

        a.Round(); // a push publication: its subscriber throws
        stranger.SendTo(a, stranger.Message(MessageType.Gossip, RawPeer.StateRecord("c", RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, time.GetUtcNow().UtcTicks), time.GetUtcNow().UtcTicks)));

        Assert.True(failures.GetMeasurementSnapshot().Count(m => Equals(m.Tags["stream"], "gossip.outgoing")) >= 2);
        Assert.Equal(1, a.Adapter.Statistics.Published);
        Assert.NotNull(a.Find("c")); // the challenge still reached the wire's subscriber, and the echo proved the sender
    }

    [Fact]
    public void Outgoing_messages_from_many_receiving_threads_reach_a_subscriber_one_at_a_time()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time);
        using GossipKeyring keyring = GossipKeyring.FromBase64([GossipNodeFixture.TestKey]);
        int inside = 0;
        int overlaps = 0;
        int seen = 0;
        using IDisposable watch = b.Adapter.Outgoing.Subscribe(_ =>
        {
            if (Interlocked.Increment(ref inside) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            Thread.SpinWait(2_000);
            Interlocked.Increment(ref seen);
            Interlocked.Decrement(ref inside);
        });

        // Every message from a new address sets off a challenge.
        const int Threads = 4;
        const int PerThread = 40;
        long now = time.GetUtcNow().UtcTicks;
        byte[][][] messages = [.. Enumerable.Range(0, Threads).Select(t => Enumerable.Range(0, PerThread).Select(i =>
            new RawPeer($"10.{t}.0.{i}:7946", new TestWire(), time, keyring).Message(MessageType.Gossip, RawPeer.StateRecord($"n{t}-{i}", RawPeer.State(Start.ToUnixTimeMilliseconds(), 1, now), now))).ToArray())];
        using var go = new Barrier(Threads);
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            go.SignalAndWait(TimeSpan.FromSeconds(30));
            for (int i = 0; i < PerThread; i++)
            {
                b.Adapter.Receive(messages[t][i], $"10.{t}.0.{i}:7946");
            }
        });

        Assert.Equal(Threads * PerThread, seen);
        Assert.Equal(0, overlaps);
    }

    private static void SetNonZero(ref WireNodeState s, WireReading reading)
    {
        switch (reading)
        {
            case WireReading.PowerSource: s.PowerSource = 1; break;
            case WireReading.ChargeState: s.ChargeState = 1; break;
            case WireReading.BatteryCount: s.BatteryCount = 1; break;
            case WireReading.BatteryPercent: s.BatteryHundredthsPercent = 1; break;
            case WireReading.BatteryRateWatts: s.BatteryRateWatts = Half.NegativeZero; break;
            case WireReading.CpuUtilization: s.CpuUtilization = 1; break;
            case WireReading.MemoryPressure: s.MemoryPressure = 1; break;
            case WireReading.GpuCount: s.GpuCount = 1; break;
            case WireReading.GpuBusiestUtilization: s.GpuBusiestUtilization = 1; break;
            case WireReading.GpuTotalWatts: s.GpuTotalWatts = Half.NaN; break;
            case WireReading.ThermalLevel: s.ThermalLevel = 1; break;
            case WireReading.ThrottleRatio: s.ThrottleRatio = 1; break;
            case WireReading.HottestCelsius: s.HottestCelsiusOffset = 1; break;
            case WireReading.Metered: s.Metered = true; break;
            case WireReading.BandwidthBitsPerSecond: s.BandwidthMegabitsPerSecond = Half.One; break;
            case WireReading.CpuLimitCores: s.CpuLimitCores = Half.NaN; break;
            case WireReading.QueueDepth: s.QueueDepth = 1; break;
            case WireReading.InFlight: s.InFlight = 1; break;
            case WireReading.BatteryPercentPerHour: s.BatteryPercentPerHour = Half.One; break;
            case WireReading.LoadSlopePerMinute: s.LoadSlopePerMinute = Half.NegativeInfinity; break;
            case WireReading.EnergySaver: s.EnergySaver = true; break;
            case WireReading.ArrivalsPerSecond: s.ArrivalsPerSecond = Half.Epsilon; break;
            case WireReading.RoutedPerSecond: s.RoutedPerSecond = Half.Epsilon; break;
            default: throw new ArgumentOutOfRangeException(nameof(reading));
        }
    }
}
