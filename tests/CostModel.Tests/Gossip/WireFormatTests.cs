using System.Collections.Immutable;
using System.Text;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

public sealed class WireFormatTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static NodeCostFactors Full(DateTimeOffset t) => new("node-full", 1_795_780_800_000, 7, t)
    {
        Power = new PowerFactors
        {
            Source = Reading.Measured(PowerSource.Battery, t, "p"),
            ChargeState = Reading.Measured(ChargeState.Discharging, t, "p"),
            BatteryCount = Reading.Measured(2, t, "p"),
            BatteryPercent = Reading.Measured(37.25, t, "p"),
            BatteryRateWatts = Reading.Measured(18.4, t, "p"),
            EnergySaver = Reading.Measured(true, t, "p"),
        },
        Compute = new ComputeFactors
        {
            CpuUtilization = Reading.Measured(0.6137, t - TimeSpan.FromSeconds(2), "c"),
            MemoryPressure = Reading.Estimated(0.25, t - TimeSpan.FromSeconds(4), "c"),
        },
        Gpu = new GpuFactors
        {
            DeviceCount = Reading.Measured(2, t, "g"),
            Devices =
            [
                new GpuDevice { Index = 0, Utilization = Reading.Measured(0.3, t, "g"), PowerWatts = Reading.Measured(120.0, t, "g") },
                new GpuDevice { Index = 1, Utilization = Reading.Measured(0.8, t, "g"), PowerWatts = Reading.Measured(250.5, t, "g") },
            ],
        },
        Thermal = new ThermalFactors
        {
            Level = Reading.Measured(ThermalLevel.Serious, t, "t"),
            ThrottleRatio = Reading.Measured(0.125, t, "t"),
            HottestCelsius = Reading.Measured(91.6, t, "t"),
        },
        Network = new NetworkFactors
        {
            Metered = Reading.Overridden(true, t, "operator"),
            BandwidthBitsPerSecond = Reading.Measured(940e6, t, "n"),
        },
        Container = new ContainerFactors { CpuLimitCores = Reading.Measured(ResourceLimit.Of(2.5), t, "k") },
        Pending = new PendingWork { QueueDepth = Reading.Measured(12, t, "q"), InFlight = Reading.Measured(3, t, "q"), ArrivalsPerSecond = Reading.Estimated(7.25, t, "q") },
        Trends = new TrendFactors
        {
            BatteryPercentPerHour = Reading.Estimated(-14.5, t, "trend"),
            LoadSlopePerMinute = Reading.Estimated(0.02, t, "trend"),
        },
    };

    private static NodeCostFactors RoundTrip(NodeCostFactors factors, long capabilitiesVersion, DateTimeOffset sentAt, DateTimeOffset receivedAt, out int stateBytes)
    {
        var state = default(WireOwnState);
        WireQuantizer.FromFactors(factors, capabilitiesVersion, ref state);
        byte[] id = Encoding.UTF8.GetBytes(factors.NodeId);
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, id, state, sentAt.UtcTicks, out int written));
        ReadOnlySpan<byte> body = buffer.AsSpan(0, written);
        Assert.True(WireCodec.TryReadRecord(ref body, out byte kind, out _, out _));
        Assert.Equal((byte)RecordKind.NodeState, kind);
        Assert.True(body.IsEmpty);
        stateBytes = written - WireFormat.RecordHeaderBytes;
        Span<char> chars = stackalloc char[64];
        Assert.Equal(WireRejection.None, WireCodec.TryReadState(buffer.AsSpan(WireFormat.RecordHeaderBytes, stateBytes), receivedAt.UtcTicks, chars, out int n, out WireNodeState read));
        Assert.Equal(factors.NodeId, new string(chars[..n]));
        return WireQuantizer.ToFactors(new string(chars[..n]), read);
    }

    [Fact]
    public void Every_field_survives_a_round_trip_at_its_documented_precision()
    {
        NodeCostFactors sent = Full(Now);
        NodeCostFactors got = RoundTrip(sent, 5, Now, Now, out _);

        Assert.Equal(sent.Generation, got.Generation);
        Assert.Equal(sent.Version, got.Version);
        Assert.Equal(PowerSource.Battery, got.Power.Source.Value);
        Assert.Equal(ChargeState.Discharging, got.Power.ChargeState.Value);
        Assert.Equal(2, got.Power.BatteryCount.Value);
        Assert.Equal(37.25, got.Power.BatteryPercent.Value, 2);                   // 0.01 %
        Assert.Equal(18.4, got.Power.BatteryRateWatts.Value, 18.4 * 0.0005);      // half: 2^-11 relative
        Assert.True(got.Power.EnergySaver.Value);
        Assert.Equal(SignalQuality.Measured, got.Power.EnergySaver.Quality);
        Assert.Equal(0.6137, got.Compute.CpuUtilization.Value, 1.0 / 65535);     // 1/65535
        Assert.Equal(0.25, got.Compute.MemoryPressure.Value, 1.0 / 255);         // 1/255
        Assert.Equal(SignalQuality.Estimated, got.Compute.MemoryPressure.Quality);
        Assert.Equal(2, got.Gpu.DeviceCount.Value);
        GpuDevice gpu = Assert.Single(got.Gpu.Devices);
        Assert.Equal(0.8, gpu.Utilization.Value, 1.0 / 65535);                   // the busiest
        Assert.Equal(370.5, gpu.PowerWatts.Value, 370.5 * 0.0005);              // the total
        Assert.Equal(ThermalLevel.Serious, got.Thermal.Level.Value);
        Assert.Equal(0.125, got.Thermal.ThrottleRatio.Value, 1.0 / 65535);
        Assert.Equal(92, got.Thermal.HottestCelsius.Value);                       // whole degrees
        Assert.True(got.Network.Metered.Value);
        Assert.Equal(SignalQuality.Overridden, got.Network.Metered.Quality);
        Assert.Equal(940e6, got.Network.BandwidthBitsPerSecond.Value, 940e6 * 0.0005);
        Assert.Equal(2.5, got.Container.CpuLimitCores.Value.Amount, 2.5 * 0.0005);
        Assert.Equal(12, got.Pending.QueueDepth.Value);
        Assert.Equal(3, got.Pending.InFlight.Value);
        Assert.Equal(7.25, got.Pending.ArrivalsPerSecond.Value);
        Assert.Equal(SignalQuality.Estimated, got.Pending.ArrivalsPerSecond.Quality);
        Assert.Equal(-14.5, got.Trends.BatteryPercentPerHour.Value, 14.5 * 0.0005);
        Assert.Equal(0.02, got.Trends.LoadSlopePerMinute.Value, 0.02 * 0.0005);

        // Ages are per group: the compute group carries its oldest reading's (4 s), never fresher.
        Assert.Equal(Now - TimeSpan.FromSeconds(4), got.Compute.CpuUtilization.ObservedAt);
        Assert.Equal(Now, got.Power.Source.ObservedAt);
    }

    [Fact]
    public void Unknown_and_unsupported_readings_keep_their_quality_and_unlimited_stays_unlimited()
    {
        var sent = new NodeCostFactors("desktop", 1, 1, Now)
        {
            Power = new PowerFactors
            {
                Source = Reading.Measured(PowerSource.Mains, Now, "p"),
                BatteryPercent = Reading.NotSupported<double>("no battery", Now),
            },
            Container = new ContainerFactors { CpuLimitCores = Reading.Measured(ResourceLimit.Unlimited, Now, "k") },
        };
        NodeCostFactors got = RoundTrip(sent, 0, Now, Now, out _);
        Assert.Equal(SignalQuality.NotSupported, got.Power.BatteryPercent.Quality);
        Assert.Equal(SignalQuality.Unknown, got.Thermal.Level.Quality);
        Assert.True(got.Container.CpuLimitCores.Value.IsUnlimited);
        Assert.Empty(got.Gpu.Devices);
    }

    [Fact]
    public void A_state_with_the_longest_node_id_fits_133_bytes()
    {
        string id = new('x', WireFormat.MaxNodeIdBytes);
        NodeCostFactors sent = Full(Now) with { NodeId = id };
        RoundTrip(sent, 1, Now, Now, out int bytes);
        Assert.True(bytes <= WireFormat.MaxStateBytes, $"{bytes} bytes");
        Assert.Equal(1 + WireFormat.MaxNodeIdBytes + WireFormat.StateFixedBytes, bytes);
    }

    [Fact]
    public void A_node_id_within_64_characters_but_over_64_UTF8_bytes_is_not_written_as_a_record_every_reader_refuses()
    {
        // 33 x "é" is 33 characters (the model takes up to 64) but 66 UTF-8 bytes (the wire takes up to
        // 64). Found by fuzzing the JSON readers: the writer wrote such records, and every reader
        // refused them (bad-node-id). A node's own id is checked at start; the codec now agrees too.
        string id = new('é', 33);
        byte[] utf8 = Encoding.UTF8.GetBytes(id);
        Assert.True(utf8.Length > WireFormat.MaxNodeIdBytes && id.Length <= NodeCostFactors.MaxNodeIdLength);
        byte[] buffer = new byte[1_400];
        WireOwnState state = default;
        WireQuantizer.FromFactors(Full(Now), 1, ref state);

        Assert.False(WireCodec.TryWriteState(buffer, utf8, state, Now.UtcTicks, out _));
        Assert.False(WireCodec.TryWriteCapabilities(buffer, utf8, 1, new NodeCapabilities(id, 1), out _));
        Assert.False(WireCodec.TryWriteState(buffer, [], state, Now.UtcTicks, out _));

        // At 64 bytes exactly (32 x "é") both are written and read back.
        byte[] longest = Encoding.UTF8.GetBytes(new string('é', 32));
        Assert.True(WireCodec.TryWriteState(buffer, longest, state, Now.UtcTicks, out int written));
        ReadOnlySpan<byte> record = buffer.AsSpan(0, written);
        Assert.True(WireCodec.TryReadRecord(ref record, out _, out ReadOnlySpan<byte> payload, out _));
        Assert.Equal(WireRejection.None, WireCodec.TryReadState(payload, Now.UtcTicks, new char[NodeCostFactors.MaxNodeIdLength], out int length, out _));
        Assert.Equal(32, length);
        Assert.True(WireCodec.TryWriteCapabilities(buffer, longest, 1, new NodeCapabilities(new string('é', 32), 1), out written));
        record = buffer.AsSpan(0, written);
        Assert.True(WireCodec.TryReadRecord(ref record, out _, out payload, out _));
        Assert.Equal(WireRejection.None, WireCodec.TryReadCapabilities(payload, new char[NodeCostFactors.MaxNodeIdLength], out _, out _, out _));
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.05, 0.1)]
    [InlineData(9.95, 10.0)]
    [InlineData(10.2, 11.0)]
    [InlineData(99.5, 100.0)]
    [InlineData(101.0, 110.0)]
    [InlineData(745.0, 750.0)]
    [InlineData(3_600.0, 750.0)]
    public void Ages_round_up_to_their_step_so_nothing_looks_fresher_than_it_is(double seconds, double decoded)
    {
        byte b = WireFormat.EncodeAge(TimeSpan.FromSeconds(seconds).Ticks);
        Assert.Equal(TimeSpan.FromSeconds(decoded).Ticks, WireFormat.DecodeAge(b));
    }

    [Fact]
    public void A_relayed_state_re_encodes_the_ages_it_arrived_with_plus_the_time_it_was_held()
    {
        var own = default(WireOwnState);
        WireQuantizer.FromFactors(Full(Now), 1, ref own);
        byte[] received = StatePayload.Write(own, Now, "node-full");
        Span<byte> ages = received.AsSpan(AgesOffset("node-full"), WireNodeState.GroupCount);
        byte[] sent = [0, 7, 99, 100, 150, 189, 190, 255];   // each step of the age encoding, and its ends
        sent.CopyTo(ages);
        DateTimeOffset arrived = Now + TimeSpan.FromTicks(12_345);

        Assert.Equal(WireRejection.None, StatePayload.Read(received, arrived, out WireNodeState state));
        Assert.Equal(arrived.UtcTicks - TimeSpan.FromSeconds(0.7).Ticks, state.ObservedTicks(1));
        Assert.Equal(arrived.UtcTicks - TimeSpan.FromSeconds(750).Ticks, state.ObservedTicks(7));
        Assert.Equal(arrived.UtcTicks, WireQuantizer.NewestObservation(state));

        // Relayed at once: byte for byte what arrived. Held 1.5 s: each age is that much older, rounded up.
        Assert.Equal(received, StatePayload.Write(state, arrived, "node-full"));
        byte[] later = StatePayload.Write(state, arrived + TimeSpan.FromSeconds(1.5), "node-full");
        Assert.Equal([15, 22, 102, 102, 152, 191, 191, 255], later.AsSpan(AgesOffset("node-full"), WireNodeState.GroupCount).ToArray());
    }

    [Fact]
    public void The_own_state_s_ages_are_counted_from_its_exact_observation_times_at_every_write()
    {
        // Compute observed 10 ms before the capture, off the 0.1 s steps of the ages: counted from the
        // capture and rounded to a step once (0.1 s), it would read 0.2 s at 50 ms, not 0.1 s.
        DateTimeOffset observed = Now - TimeSpan.FromMilliseconds(10);
        var own = default(WireOwnState);
        WireQuantizer.FromFactors(Full(Now) with
        {
            Compute = new ComputeFactors
            {
                CpuUtilization = Reading.Measured(0.5, observed, "c"),
                MemoryPressure = Reading.Measured(0.25, observed, "c"),
            },
        }, 1, ref own);
        TimeSpan tick = TimeSpan.FromTicks(1);

        Assert.Equal((byte)1, OwnAge(own, Now + TimeSpan.FromMilliseconds(50), WireGroup.Compute));
        Assert.Equal((byte)1, OwnAge(own, Now + TimeSpan.FromMilliseconds(90), WireGroup.Compute));
        Assert.Equal((byte)2, OwnAge(own, Now + TimeSpan.FromMilliseconds(90) + tick, WireGroup.Compute));
        Assert.Equal((byte)1, OwnAge(own, Now + TimeSpan.FromMilliseconds(90) + tick, WireGroup.Power));
        Assert.Equal((byte)2, OwnAge(own, Now + TimeSpan.FromMilliseconds(100) + tick, WireGroup.Power));
    }

    // Where the ages start in a state payload: after the id (length + bytes), the 14 header bytes and
    // the 11 quality nibble bytes (docs/gossip-wire-format.md).
    private static int AgesOffset(string id) => 1 + Encoding.UTF8.GetByteCount(id) + 14 + 11;

    private static byte OwnAge(in WireOwnState own, DateTimeOffset at, WireGroup group) =>
        StatePayload.Write(own, at, "node-full")[AgesOffset("node-full") + (int)group];

    [Fact]
    public void Age_encoding_is_monotonic()
    {
        byte previous = 0;
        for (long ms = 0; ms < 800_000; ms += 37)
        {
            byte b = WireFormat.EncodeAge(ms * TimeSpan.TicksPerMillisecond);
            Assert.True(b >= previous);
            Assert.True(WireFormat.DecodeAge(b) >= Math.Min(ms * TimeSpan.TicksPerMillisecond, TimeSpan.FromSeconds(750).Ticks));
            previous = b;
        }
    }

    [Fact]
    public void Capabilities_survive_a_round_trip()
    {
        var caps = new NodeCapabilities("gpu-box", 9)
        {
            Models =
            [
                new ServedModel("llama-3.1-70b") { ParameterBillions = 70, QuantizationBits = 4.5, ContextTokens = 131_072, PrefillTokensPerSecond = 2_500, DecodeTokensPerSecond = 35.5, ParallelSlots = 8 },
                new ServedModel("phi-4-mini"),
            ],
            Relays = [new RelayRoute("qwen-2.5-72b", "cluster-gw", 2)],
        };
        byte[] buffer = new byte[1_400];
        Assert.True(WireCodec.TryWriteCapabilities(buffer, Encoding.UTF8.GetBytes("gpu-box"), 123, caps, out int written));
        Span<char> chars = stackalloc char[64];
        Assert.Equal(WireRejection.None, WireCodec.TryReadCapabilities(buffer.AsSpan(3, written - 3), chars, out int n, out long generation, out NodeCapabilities? got));
        Assert.Equal(123, generation);
        Assert.Equal(caps.Version, got!.Version);
        Assert.Equal(caps.Models[0] with { }, got.Models[0]);
        Assert.Null(got.Models[1].ParameterBillions);
        Assert.Equal(caps.Relays[0], got.Relays[0]);
    }

    [Fact]
    public void Capabilities_with_the_most_relays_read_and_one_more_is_refused()
    {
        // 32 relay routes travel; a record claiming 33 (a hostile or newer sender) is refused whole,
        // and a host cannot build capabilities with 33.
        RelayRoute[] routes = [.. Enumerable.Range(0, NodeCapabilities.MaxRelays).Select(i => new RelayRoute($"m{i:00}", "gw", 1))];
        var caps = new NodeCapabilities("gw", 1) { Relays = [.. routes] };
        byte[] buffer = new byte[4_096];
        Assert.True(WireCodec.TryWriteCapabilities(buffer, Encoding.UTF8.GetBytes("gw"), 5, caps, out int written));
        Span<char> chars = stackalloc char[64];
        Assert.Equal(WireRejection.None, WireCodec.TryReadCapabilities(buffer.AsSpan(3, written - 3), chars, out _, out _, out NodeCapabilities? got));
        Assert.Equal(routes, got!.Relays);

        // The count byte sits before the first route's length-prefixed model id.
        int first = buffer.AsSpan(0, written).IndexOf(Encoding.UTF8.GetBytes("m00"));
        int count = first - 2;
        Assert.Equal(NodeCapabilities.MaxRelays, buffer[count]);
        buffer[count] = NodeCapabilities.MaxRelays + 1;
        Assert.Equal(WireRejection.OutOfRange, WireCodec.TryReadCapabilities(buffer.AsSpan(3, written - 3), chars, out _, out _, out got));
        Assert.Null(got);

        Assert.Throws<ArgumentOutOfRangeException>(() => new NodeCapabilities("gw", 1) { Relays = [.. routes, new RelayRoute("one-more", "gw", 1)] });
    }

    [Fact]
    public void Random_bytes_truncations_and_bit_flips_never_throw_and_never_change_the_view()
    {
        var time = new FakeTimeProvider(Now);
        using var a = new GossipNodeFixture("a", time, GossipNodeFixture.Unauthenticated);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        a.GossipTo(b);
        time.Advance(TimeSpan.FromSeconds(6));
        a.Conditions.Cpu = 0.77;
        a.Round();
        byte[] valid = a.Pull();
        IReadOnlyList<MeshNode> before = b.View.Nodes;
        var random = new Random(20261127);

        for (int i = 0; i < 5_000; i++)
        {
            byte[] junk = new byte[random.Next(0, 1_500)];
            random.NextBytes(junk);
            if (i % 3 == 0 && junk.Length > WireFormat.HeaderBytes)
            {
                // Random bodies behind a valid header prefix reach deeper checks.
                valid.AsSpan(0, WireFormat.HeaderBytes).CopyTo(junk);
            }

            b.Adapter.Receive(junk, "fuzz");
        }

        for (int length = 0; length < valid.Length; length++)
        {
            b.Adapter.Receive(valid.AsSpan(0, length), "truncated");
        }

        for (int bit = 0; bit < valid.Length * 8; bit++)
        {
            byte[] flipped = (byte[])valid.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            b.Adapter.Receive(flipped, "flipped");
        }

        Assert.Same(before, b.View.Nodes);
        Assert.Equal(2, b.Adapter.Statistics.Merged); // the first message's state and capabilities, nothing since
        b.Deliver(valid, "a");
        Assert.Equal(0.77, b.Find("a")!.Factors.Compute.CpuUtilization.Value, 3);
    }

    [Fact]
    public void Unknown_record_kinds_are_skipped_and_the_rest_of_the_message_is_merged()
    {
        var time = new FakeTimeProvider(Now);
        using var a = new GossipNodeFixture("a", time, GossipNodeFixture.Unauthenticated);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        a.Round();
        byte[] valid = a.Pull();

        // Rebuild the message with a record of an unknown kind (200) in front, then reseal it.
        int bodyStart = WireFormat.BodyOffset(WireProtection.None);
        int bodyEnd = valid.Length - WireFormat.ChecksumBytes;
        byte[] extra = [200, 3, 0, 1, 2, 3];
        byte[] message = new byte[valid.Length + extra.Length];
        valid.AsSpan(0, bodyStart).CopyTo(message);
        extra.CopyTo(message.AsSpan(bodyStart));
        valid.AsSpan(bodyStart, bodyEnd - bodyStart).CopyTo(message.AsSpan(bodyStart + extra.Length));
        int length = WireCodec.Seal(message, bodyEnd + extra.Length, GossipKeyring.None);

        b.Deliver(message.AsSpan(0, length), "a");
        Assert.NotNull(b.Find("a"));
    }

    [Fact]
    public void Unknown_message_types_and_newer_protocols_are_counted_not_fatal()
    {
        var time = new FakeTimeProvider(Now);
        using var a = new GossipNodeFixture("a", time, GossipNodeFixture.Unauthenticated);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        a.Round();
        byte[] valid = a.Pull();

        byte[] newType = (byte[])valid.Clone();
        newType[3] = 77;
        WireCodec.Seal(newType, newType.Length - WireFormat.ChecksumBytes, GossipKeyring.None);
        byte[] newProtocol = (byte[])valid.Clone();
        newProtocol[2] = WireFormat.ProtocolVersion + 1;
        WireCodec.Seal(newProtocol, newProtocol.Length - WireFormat.ChecksumBytes, GossipKeyring.None);

        b.Deliver(newType, "a");
        b.Deliver(newProtocol, "a");
        Assert.Null(b.Find("a"));
        Assert.Equal(2, b.Adapter.Statistics.Rejected);
        b.Deliver(valid, "a");
        Assert.NotNull(b.Find("a"));
    }

    [Fact]
    public void Out_of_range_values_are_refused()
    {
        var state = default(WireOwnState);
        WireQuantizer.FromFactors(Full(Now), 0, ref state);
        WireNodeState nan = state.State;
        nan.BatteryRateWatts = Half.NaN;
        Assert.NotNull(WireQuantizer.Validate(nan));
        WireNodeState percent = state.State;
        percent.BatteryHundredthsPercent = 10_001;
        Assert.NotNull(WireQuantizer.Validate(percent));
        WireNodeState level = state.State;
        level.ThermalLevel = 9;
        Assert.NotNull(WireQuantizer.Validate(level));
        WireNodeState hot = state.State;
        hot.HottestCelsiusOffset = 250;
        Assert.NotNull(WireQuantizer.Validate(hot));
        WireNodeState straySaver = state.State;
        straySaver.Qualities[(int)WireReading.EnergySaver] = SignalQuality.Unknown;
        Assert.NotNull(WireQuantizer.Validate(straySaver));   // "on" with no reading behind it
        Assert.Null(WireQuantizer.Validate(state.State));
    }

    [Theory]
    [InlineData(0x40)]
    [InlineData(0x80)]
    public void The_reserved_bits_beside_the_energy_saver_are_refused(int bit)
    {
        var state = default(WireOwnState);
        WireQuantizer.FromFactors(Full(Now), 0, ref state);
        byte[] id = Encoding.UTF8.GetBytes("node-full");
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, id, state, Now.UtcTicks, out int written));
        Span<byte> payload = buffer.AsSpan(WireFormat.RecordHeaderBytes, written - WireFormat.RecordHeaderBytes);
        Span<char> chars = stackalloc char[64];
        Assert.Equal(WireRejection.None, WireCodec.TryReadState(payload, Now.UtcTicks, chars, out _, out _));

        // The flags byte is the 15th value byte: after the id (length + bytes), the 14 header bytes,
        // the 11 quality nibble bytes and the 8 age bytes (docs/gossip-wire-format.md).
        int flags = 1 + id.Length + 14 + 11 + WireNodeState.GroupCount + 14;
        Assert.Equal(0x20, payload[flags] & 0x20);   // the saver bit this fixture set
        payload[flags] |= (byte)bit;
        Assert.Equal(WireRejection.OutOfRange, WireCodec.TryReadState(payload, Now.UtcTicks, chars, out _, out _));
    }
}
