using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.IO.Hashing;
using System.Text;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>
/// A deterministic fuzz run of the receive path (fixed seeds, about a million inputs): random
/// bytes, truncations, bit flips, and structure-aware messages whose states break one documented
/// rule each (docs/gossip-wire-format.md). It asserts that nothing reached the receive path's
/// last-resort catch (no exception), that no message breaking a rule was accepted or partly
/// merged, that every accepted state builds as factors, and that the view and the router work
/// afterwards. The hours-long coverage-guided run is benchmarks/CostModel.Fuzz.
/// </summary>
public sealed class GossipFuzzTests
{
    private const int RandomInputs = 250_000;
    private const int Truncations = 150_000;
    private const int BitFlips = 250_000;
    private const int StructuredInputs = 250_000;
    private const int KeyedInputs = 100_000;
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private enum Breakage
    {
        None,
        QualityOutOfRange,
        StrayValue,
        NotANumber,
        Infinity,
        Negative,
        BatteryOver100,
        EnumOutOfRange,
        TooHot,
        ZeroGeneration,
        ZeroVersion,
        GenerationFromTheFuture,
        EmptyId,
        LongId,
        InvalidUtf8Id,
        ControlCharacterId,
        TruncatedRecord,
        TooManyRecords,
    }

    [Fact]
    public void A_million_hostile_inputs_raise_nothing_are_never_wrongly_accepted_and_leave_a_working_view_and_router()
    {
        var time = new FakeTimeProvider(Start);
        using var b = new GossipNodeFixture("b", time, GossipNodeFixture.Unauthenticated);
        using var a = new GossipNodeFixture("a", time, GossipNodeFixture.Unauthenticated);
        using var internalErrors = new InternalErrorCounter(b.Services.GetRequiredService<CostModelMetrics>().Meter);
        b.Round();
        var sender = new RawPeer("fuzz:7946", b.Wire, time, GossipKeyring.None);
        sender.SendTo(b, sender.Message(MessageType.Gossip)); // proven once: every input below reaches the parser
        a.GossipTo(b);
        a.Round();
        byte[][] valid = [a.Pull(), sender.Message(MessageType.Gossip, RawPeer.StateRecord("v", RawPeer.State(Start.ToUnixTimeMilliseconds(), 9, time.GetUtcNow().UtcTicks), time.GetUtcNow().UtcTicks))];
        var random = new Random(20261205);
        int inputs = 0;

        // 1. Random bytes; a third behind a valid header with the checksum fixed, so the body parser runs.
        for (int i = 0; i < RandomInputs; i++, inputs++)
        {
            byte[] junk = new byte[random.Next(0, 400)];
            random.NextBytes(junk);
            if (i % 3 == 0 && junk.Length >= WireFormat.Overhead(WireProtection.None))
            {
                valid[1].AsSpan(0, WireFormat.HeaderBytes).CopyTo(junk);
                Reseal(junk);
            }

            b.Adapter.Receive(junk, "fuzz:7946");
        }

        // 2. Truncations and extensions of valid messages, half resealed.
        for (int i = 0; i < Truncations; i++, inputs++)
        {
            byte[] source = valid[i % valid.Length];
            int length = random.Next(0, source.Length + 40);
            byte[] cut = new byte[length];
            source.AsSpan(0, Math.Min(length, source.Length)).CopyTo(cut);
            if (i % 2 == 0 && length >= WireFormat.Overhead(WireProtection.None))
            {
                Reseal(cut);
            }

            b.Adapter.Receive(cut, "fuzz:7946");
        }

        // 3. One to four bit flips of valid messages, half resealed so the flipped records are parsed.
        for (int i = 0; i < BitFlips; i++, inputs++)
        {
            byte[] flipped = (byte[])valid[i % valid.Length].Clone();
            for (int f = random.Next(1, 5); f > 0; f--)
            {
                int bit = random.Next(flipped.Length * 8);
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            if (i % 2 == 0)
            {
                Reseal(flipped);
            }

            b.Adapter.Receive(flipped, "fuzz:7946");
            if (i % 50_000 == 0)
            {
                AssertViewBuilds(b);
            }
        }

        // 4. Structure-aware: plausible states, each message broken by one documented rule or not at all.
        Breakage[] breakages = Enum.GetValues<Breakage>();
        int acceptedClean = 0;
        for (int i = 0; i < StructuredInputs; i++, inputs++)
        {
            Breakage breakage = breakages[random.Next(breakages.Length)];
            byte[] message = Structured(sender, random, breakage, time.GetUtcNow());
            long merged = b.Adapter.Statistics.Merged;
            bool accepted = b.Adapter.Receive(message, "fuzz:7946");
            if (breakage != Breakage.None)
            {
                Assert.False(accepted, $"input {i} broke {breakage} and was accepted");
                Assert.Equal(merged, b.Adapter.Statistics.Merged);
            }
            else
            {
                if (!accepted)
                {
                    using var why = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(b.Services.GetRequiredService<CostModelMetrics>().Meter, "costmodel.gossip.rejected");
                    b.Adapter.Receive(message, "fuzz:7946");
                    Assert.Fail($"clean input {i} was refused: {string.Join(", ", why.GetMeasurementSnapshot().Select(m => m.Tags["reason"]))}; {Convert.ToHexString(message)}");
                }
                AssertStatesBuild(message);
                acceptedClean++;
            }

            if (i % 50_000 == 0)
            {
                AssertViewBuilds(b);
            }
        }

        // 5. A keyed receiver: flips and junk against AES-GCM and HMAC (nothing may open).
        using var keyed = new GossipNodeFixture("keyed", time);
        using var keyedErrors = new InternalErrorCounter(keyed.Services.GetRequiredService<CostModelMetrics>().Meter);
        using var sealer = new GossipNodeFixture("sealer", time);
        using var signer = new GossipNodeFixture("signer", time, o => o.Encrypt = false);
        sealer.Round();
        signer.Round();
        byte[][] sealedMessages = [sealer.Pull(), signer.Pull()];
        long keyedMerged = keyed.Adapter.Statistics.Merged;
        for (int i = 0; i < KeyedInputs; i++, inputs++)
        {
            byte[] flipped = (byte[])sealedMessages[i % 2].Clone();
            int bit = random.Next(flipped.Length * 8);
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(keyed.Adapter.Receive(flipped, i % 2 == 0 ? "sealer" : "signer"));
        }

        Assert.Equal(keyedMerged, keyed.Adapter.Statistics.Merged);
        Assert.Equal(0, keyedErrors.Count);

        TestContext.Current.TestOutputHelper?.WriteLine($"{inputs:N0} inputs; {acceptedClean:N0} clean structured messages accepted; view of {b.View.Nodes.Count} nodes; {b.Adapter.Statistics.Rejected:N0} rejections");
        Assert.True(inputs >= 1_000_000);
        Assert.Equal(0, internalErrors.Count);
        AssertViewBuilds(b);
        RouteDecision decision = b.Router.Route(new RequestProfile(GossipNodeFixture.Model) { InputTokens = 100, OutputTokens = 50 });
        decision.Lease.Dispose();
        Assert.False(string.IsNullOrEmpty(decision.TargetId));
    }

    /// <summary>Recomputes the CRC-32 trailer of an unauthenticated message after it was changed.</summary>
    private static void Reseal(byte[] message)
    {
        int body = message.Length - WireFormat.ChecksumBytes;
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(body), Crc32.HashToUInt32(message.AsSpan(0, body)));
    }

    private static void AssertViewBuilds(GossipNodeFixture node)
    {
        foreach (MeshNode n in node.View.Nodes)
        {
            Assert.False(string.IsNullOrEmpty(n.NodeId));
        }
    }

    /// <summary>Every state of an accepted message builds as factors (the factor model's own guards are the independent check).</summary>
    private static void AssertStatesBuild(byte[] message)
    {
        ReadOnlySpan<byte> body = message.AsSpan(WireFormat.HeaderBytes, message.Length - WireFormat.HeaderBytes - WireFormat.ChecksumBytes);
        Span<char> id = stackalloc char[NodeCostFactors.MaxNodeIdLength];
        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> payload, out _))
        {
            if (kind == (byte)RecordKind.NodeState)
            {
                Assert.Equal(WireRejection.None, WireCodec.TryReadState(payload, Start.UtcTicks, id, out int length, out WireNodeState state));
                NodeCostFactors factors = WireQuantizer.ToFactors(new string(id[..length]), state);
                Assert.Equal(state.Generation, factors.Generation);
            }
        }
    }

    private static byte[] Structured(RawPeer sender, Random random, Breakage breakage, DateTimeOffset now)
    {
        int count = random.Next(1, 4);
        var records = new List<byte[]>();
        int broken = random.Next(count);
        for (int r = 0; r < count; r++)
        {
            WireOwnState state = default;
            WireQuantizer.FromFactors(Plausible(random, now), random.Next(0, 5), ref state);
            string id = $"s{random.Next(10_000)}";
            records.Add(r == broken ? Break(state, id, random, breakage, now) : RawPeer.StateRecord(id, state, now.UtcTicks));
        }

        if (random.Next(4) == 0)
        {
            records.Add(RawPeer.Record((byte)random.Next(5, 256), [1, 2, 3])); // an unknown kind: skipped, never fatal
        }

        if (breakage == Breakage.TooManyRecords)
        {
            while (records.Count <= GossipDefaults.MaxRecordsPerMessage)
            {
                records.Add(RawPeer.Record(250, []));
            }
        }

        return sender.Message(MessageType.Gossip, [.. records]);
    }

    private static byte[] Break(WireOwnState own, string id, Random random, Breakage breakage, DateTimeOffset now)
    {
        long nowTicks = now.UtcTicks;
        ref WireNodeState state = ref own.State;
        switch (breakage)
        {
            case Breakage.QualityOutOfRange:
                state.Qualities[random.Next(WireNodeState.ReadingCount)] = (SignalQuality)random.Next(5, 16);
                break;
            case Breakage.StrayValue:
                state.Qualities[(int)WireReading.InFlight] = random.Next(2) == 0 ? SignalQuality.Unknown : SignalQuality.NotSupported;
                state.InFlight = (ushort)random.Next(1, ushort.MaxValue);
                break;
            case Breakage.NotANumber:
                state.Qualities[(int)WireReading.BandwidthBitsPerSecond] = SignalQuality.Measured;
                state.BandwidthMegabitsPerSecond = Half.NaN;
                break;
            case Breakage.Infinity:
                state.Qualities[(int)WireReading.GpuTotalWatts] = SignalQuality.Estimated;
                state.GpuTotalWatts = Half.PositiveInfinity;
                break;
            case Breakage.Negative:
                state.Qualities[(int)WireReading.BatteryRateWatts] = SignalQuality.Measured;
                state.BatteryRateWatts = (Half)(-random.Next(1, 1000));
                break;
            case Breakage.BatteryOver100:
                state.Qualities[(int)WireReading.BatteryPercent] = SignalQuality.Measured;
                state.BatteryHundredthsPercent = (ushort)random.Next(10_001, ushort.MaxValue + 1);
                break;
            case Breakage.EnumOutOfRange:
                state.Qualities[(int)WireReading.ThermalLevel] = SignalQuality.Measured;
                state.ThermalLevel = (byte)random.Next(5, 16);
                break;
            case Breakage.TooHot:
                state.Qualities[(int)WireReading.HottestCelsius] = SignalQuality.Measured;
                state.HottestCelsiusOffset = (byte)random.Next((int)ThermalFactors.MaxPlausibleCelsius + WireQuantizer.CelsiusOffset + 1, 256);
                break;
            case Breakage.ZeroGeneration:
                state.Generation = 0;
                break;
            case Breakage.ZeroVersion:
                state.Version = 0;
                break;
            case Breakage.GenerationFromTheFuture:
                state.Generation = (now + TimeSpan.FromDays(2)).ToUnixTimeMilliseconds();
                break;
            case Breakage.EmptyId:
            case Breakage.LongId:
            case Breakage.InvalidUtf8Id:
            case Breakage.ControlCharacterId:
                return StateWithRawId(own, breakage switch
                {
                    Breakage.EmptyId => [],
                    Breakage.LongId => Encoding.UTF8.GetBytes(new string('x', WireFormat.MaxNodeIdBytes + 1)),
                    Breakage.InvalidUtf8Id => [0x61, 0xC3, 0x28, 0x62],
                    _ => Encoding.UTF8.GetBytes("node\u0007bell"),
                }, nowTicks);
            case Breakage.TruncatedRecord:
                // With an arrival rate known: a state without one cut to the older layout (before the
                // rate was appended) IS a valid older state, which receivers accept by design. The
                // routed rate carries its own quality, so a cut to the layout before it is that layout,
                // also valid by design: never cut there.
                state.Qualities[(int)WireReading.ArrivalsPerSecond] = SignalQuality.Measured;
                state.ArrivalsPerSecond = (Half)2;
                byte[] record = RawPeer.StateRecord(id, own, nowTicks);
                int beforeRouted = record.Length - (WireFormat.StateFixedBytes - WireFormat.StateWithArrivalsBytes);
                int keep = random.Next(WireFormat.RecordHeaderBytes + 1, record.Length - 1);
                keep = keep >= beforeRouted ? keep + 1 : keep;
                byte[] shortened = record[..keep];
                BinaryPrimitives.WriteUInt16LittleEndian(shortened.AsSpan(1), (ushort)(keep - WireFormat.RecordHeaderBytes));
                return shortened;
            default:
                break;
        }

        return RawPeer.StateRecord(id, own, nowTicks);
    }

    // The record as the encoder would write it, but with any id bytes (the encoder itself refuses bad ids).
    private static byte[] StateWithRawId(in WireOwnState state, byte[] id, long nowTicks)
    {
        byte[] template = RawPeer.StateRecord("x", state, nowTicks);
        byte[] fixedPart = template[(WireFormat.RecordHeaderBytes + 2)..];
        byte[] record = new byte[WireFormat.RecordHeaderBytes + 1 + id.Length + fixedPart.Length];
        record[0] = (byte)RecordKind.NodeState;
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(1), (ushort)(record.Length - WireFormat.RecordHeaderBytes));
        record[WireFormat.RecordHeaderBytes] = (byte)Math.Min(id.Length, byte.MaxValue);
        id.CopyTo(record, WireFormat.RecordHeaderBytes + 1);
        fixedPart.CopyTo(record, WireFormat.RecordHeaderBytes + 1 + id.Length);
        return record;
    }

    /// <summary>Random factors the factor model accepts: the clean half of the structured inputs.</summary>
    private static NodeCostFactors Plausible(Random random, DateTimeOffset t)
    {
        string source = "fuzz";
        Reading<T> Maybe<T>(T value)
            where T : struct => random.Next(5) switch
            {
                0 => Reading.Unknown<T>("fuzz unknown", t),
                1 => Reading.NotSupported<T>("fuzz unsupported", t),
                2 => Reading.Estimated(value, t, source),
                _ => Reading.Measured(value, t, source),
            };

        return new NodeCostFactors("p", Start.ToUnixTimeMilliseconds(), random.Next(1, 1_000_000), t)
        {
            Power = new PowerFactors
            {
                Source = Maybe((PowerSource)random.Next(1, 4)),
                ChargeState = Maybe((ChargeState)random.Next(1, 5)),
                BatteryCount = Maybe(random.Next(0, 4)),
                BatteryPercent = Maybe(random.NextDouble() * 100),
                BatteryRateWatts = Maybe(random.NextDouble() * 200),
            },
            Compute = new ComputeFactors { CpuUtilization = Maybe(random.NextDouble()), MemoryPressure = Maybe(random.NextDouble()) },
            Thermal = new ThermalFactors { Level = Maybe((ThermalLevel)random.Next(1, 5)), ThrottleRatio = Maybe(random.NextDouble()), HottestCelsius = Maybe((random.NextDouble() * 140) - 20) },
            Network = new NetworkFactors { Metered = Maybe(random.Next(2) == 0), BandwidthBitsPerSecond = Maybe(random.NextDouble() * 10e9) },
            Container = new ContainerFactors { CpuLimitCores = Maybe(random.Next(3) == 0 ? ResourceLimit.Unlimited : ResourceLimit.Of(0.1 + (random.NextDouble() * 64))) },
            Pending = new PendingWork { QueueDepth = Maybe(random.Next(0, 100_000)), InFlight = Maybe(random.Next(0, 1_000)) },
            Trends = new TrendFactors { BatteryPercentPerHour = Maybe((random.NextDouble() * 200) - 100), LoadSlopePerMinute = Maybe((random.NextDouble() * 2) - 1) },
        };
    }

    /// <summary>Counts rejections for the reason "internal-error": an exception caught by Receive's last resort.</summary>
    private sealed class InternalErrorCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Meter _meter;
        private int _count;

        public InternalErrorCounter(Meter meter)
        {
            _meter = meter;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, _meter) && instrument.Name == "costmodel.gossip.rejected")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "reason" && Equals(tag.Value, "internal-error"))
                    {
                        Interlocked.Increment(ref _count);
                    }
                }
            });
            _listener.Start();
        }

        public int Count => Volatile.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
