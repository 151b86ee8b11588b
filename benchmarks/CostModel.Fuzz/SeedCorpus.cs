using System.Buffers.Binary;
using System.Text;
using CostModel.Factors;
using CostModel.Gossip.Wire;

namespace CostModel.Fuzz;

/// <summary>
/// The seed corpus: a handful of small inputs the receiver accepts, one per shape of message it
/// handles (a state, a state with capabilities, a challenge, an echo, a sync request, and a whole
/// datagram delivered unwrapped), so AFL starts from messages that reach the merge rather than from
/// bytes that die at the first check. States come in each layout a receiver reads: this version's
/// (with an arrival rate known, and without), and the older one without the arrival rate (a prefix
/// of this one). Two clock inputs (a second, a minute) move the receiver's time, and two drift inputs
/// move the sender's (32 s either way, past the receiver's 10 s freshness tolerance) before a state:
/// those two are the seeds the receiver refuses, holding the state until the sender proves itself
/// again (their names start with <see cref="HeldPrefix"/>; a fresh receiver challenged the sender
/// when it proved it, and challenges a sender at most once a second, so it sends no new challenge
/// yet). Three rotation inputs reload the receiver's keys: both keys the other way round (the sender
/// still sealing with the first, then with the second), and, in a keyed mesh, the second key alone
/// while the sender seals with the first (its name starts with <see cref="RefusedPrefix"/>: refused,
/// the receiver no longer holds the key). One seed comes from another peer than the first (a state
/// with capabilities; the peer proves its address first). Written by <c>--write-corpus DIR</c>, which <c>run.sh</c> calls before every fresh run, so the seeds always follow the wire format they are built with, and for the mesh
/// fuzzed (<see cref="FuzzMesh"/>: the unwrapped seed is sealed as its members seal); each seed is
/// checked against a fresh receiver first.
/// </summary>
internal static class SeedCorpus
{
    /// <summary>The start of the names of seeds the receiver holds instead of accepting.</summary>
    public const string HeldPrefix = "held-";

    /// <summary>The start of the names of seeds the receiver refuses outright (a message sealed with a key it no longer holds).</summary>
    public const string RefusedPrefix = "refused-";

    // One hour before the receiver's starting clock: a node that started an hour ago.
    private static readonly long Generation = GossipReceiverTarget.Now.AddHours(-1).ToUnixTimeMilliseconds();

    /// <summary>The seeds, by file name.</summary>
    /// <param name="mesh">The mesh the unwrapped seed is sealed for.</param>
    public static IReadOnlyList<(string Name, byte[] Input)> Build(FuzzMesh mesh)
    {
        long now = GossipReceiverTarget.Now.UtcTicks;
        byte[] laptop = StateRecord("seed-laptop", Laptop(), now);
        byte[] gpuBox = StateRecord("seed-gpu-box", GpuBox(), now);
        byte[] capabilities = CapabilitiesRecord("seed-gpu-box");
        byte[] busy = StateRecord("seed-busy", Busy(), now);

        // A cookie the receiver did not make: its echo is refused as proof (the secret is drawn per
        // process, so no stored echo could ever be valid) but the message, fresh, is still taken.
        var cookie = new Cookie(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210);
        byte[] challenge = CookieRecord(RecordKind.Challenge, cookie);
        byte[] echo = CookieRecord(RecordKind.Echo, cookie);

        byte[] sealedState = new byte[FuzzInput.MaxDatagram];
        int sealedLength = FuzzInput.Seal(sealedState, MessageType.Gossip, StateRecord("seed-raw", Laptop(), now), FuzzInput.SenderClockMs, mesh);

        List<(string Name, byte[] Input)> seeds =
        [
            ("state", FuzzInput.Wrapped(MessageType.Gossip, laptop)),
            ("state-capabilities", FuzzInput.Wrapped(MessageType.Gossip, [.. gpuBox, .. capabilities])),
            ("challenge", FuzzInput.Wrapped(MessageType.Gossip, challenge)),
            ("echo", FuzzInput.Wrapped(MessageType.Gossip, echo)),
            ("sync-request", FuzzInput.Wrapped(MessageType.SyncRequest, laptop)),
            ("raw-state", FuzzInput.Raw(sealedState.AsSpan(0, sealedLength))),
            ("state-arrivals", FuzzInput.Wrapped(MessageType.Gossip, busy)),
            ("state-before-arrivals", FuzzInput.Wrapped(MessageType.Gossip, CutTo(laptop, WireFormat.StateMinimumBytes))),
            ("state-before-routed", FuzzInput.Wrapped(MessageType.Gossip, CutTo(busy, WireFormat.StateWithArrivalsBytes))),
            ("clock-second", FuzzInput.Clock(4)),
            ("clock-minute", FuzzInput.Clock(256)),
            (HeldPrefix + "drift-ahead", FuzzInput.Drift(sbyte.MaxValue, laptop)),
            (HeldPrefix + "drift-back", FuzzInput.Drift(sbyte.MinValue, laptop)),
            ("rotate-keys-swapped", FuzzInput.Rotate(1, senderSealsWithSecond: false, laptop)),
            ("rotate-sender-second-key", FuzzInput.Rotate(1, senderSealsWithSecond: true, laptop)),
            ("other-peer-state-capabilities", FuzzInput.FromSender(2, [.. gpuBox, .. capabilities])),
        ];
        if (mesh.IsKeyed)
        {
            seeds.Add((RefusedPrefix + "rotate-sender-key-removed", FuzzInput.Rotate(3, senderSealsWithSecond: false, laptop)));
        }

        return seeds;
    }

    /// <summary>Writes the seeds into <paramref name="directory"/>, each checked first: a receiver in <paramref name="mesh"/> must accept it (or, for a <see cref="HeldPrefix"/> or <see cref="RefusedPrefix"/> seed, refuse it) and break no invariant.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <param name="mesh">The mesh fuzzed.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvalidOperationException">A seed was refused: the wrapping or the seed itself is wrong.</exception>
    public static IReadOnlyList<string> Write(string directory, FuzzMesh mesh)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in Build(mesh))
        {
            using (var target = new GossipReceiverTarget(mesh))
            {
                bool held = name.StartsWith(HeldPrefix, StringComparison.Ordinal);
                bool refused = name.StartsWith(RefusedPrefix, StringComparison.Ordinal);
                bool accepted = target.Run(input);
                if (!held && !refused && !accepted)
                {
                    throw new InvalidOperationException($"The seed '{name}' was refused: {string.Join(", ", target.LastReasons)}.");
                }

                if (held && accepted)
                {
                    throw new InvalidOperationException($"The seed '{name}' was accepted: a state from a sender whose clock jumped past the tolerance must be held until it proves itself again.");
                }

                if (refused && accepted)
                {
                    throw new InvalidOperationException($"The seed '{name}' was accepted: a message sealed with a key the receiver no longer holds must be refused.");
                }
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        CheckDriftIsHeldThenReleased(mesh);
        CheckRotation(mesh);
        CheckSeveralPeers(mesh);
        return written;
    }

    // The path sender inputs open, checked on one receiver: each peer proves itself on its first
    // message and is heard; a state another peer relays older than the one held is not merged over
    // it, a newer one is. If this broke, sender inputs would never reach a second peer's merge.
    private static void CheckSeveralPeers(FuzzMesh mesh)
    {
        long now = GossipReceiverTarget.Now.UtcTicks;
        NodeCostFactors laptop = Laptop();
        using var target = new GossipReceiverTarget(mesh);
        const string Node = "seed-relayed";
        bool first = target.Run(FuzzInput.FromSender(1, StateRecord(Node, laptop with { Version = 9 }, now)));
        bool older = target.Run(FuzzInput.FromSender(2, StateRecord(Node, laptop with { Version = 8 }, now)));
        long? held = target.VersionOf(Node);
        bool newer = target.Run(FuzzInput.FromSender(3, StateRecord(Node, laptop with { Version = 10 }, now)));
        if (!first || held != 9 || !newer || target.VersionOf(Node) != 10)
        {
            throw new InvalidOperationException($"Three peers relaying one node's states at versions 9, 8 and 10: accepted {first}, {older}, {newer}; held {held?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} after the older, then {target.VersionOf(Node)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} ({string.Join(", ", target.LastReasons)}).");
        }
    }

    // The path rotation inputs open, checked on one receiver of a keyed mesh: with the sender's key
    // removed its state is refused and it cannot prove itself after a clock move; with the key back
    // (the sender now sealing with the second, the receiver holding both) a newer state is merged.
    // If this broke, rotation inputs would only ever meet one side of a rotation.
    private static void CheckRotation(FuzzMesh mesh)
    {
        if (!mesh.IsKeyed)
        {
            return;
        }

        long now = GossipReceiverTarget.Now.UtcTicks;
        NodeCostFactors laptop = Laptop();
        using var target = new GossipReceiverTarget(mesh);
        int before = target.ViewCount;
        if (target.Run(FuzzInput.Rotate(3, senderSealsWithSecond: false, StateRecord("seed-rotated", laptop, now))) || target.ViewCount != before)
        {
            throw new InvalidOperationException("A state sealed with a key the receiver had just removed was merged: rotation inputs do not reach the key check.");
        }

        target.Run(FuzzInput.Clock(8));
        byte[] newer = StateRecord("seed-rotated", laptop with { Version = laptop.Version + 1 }, now);
        if (!target.Run(FuzzInput.Rotate(1, senderSealsWithSecond: true, newer)) || target.ViewCount != before + 1)
        {
            throw new InvalidOperationException($"A state sealed with a key the receiver holds again was not merged after the reload ({string.Join(", ", target.LastReasons)}; view of {target.ViewCount} node(s), {before} before).");
        }
    }

    // The path drift inputs open, checked on one receiver: a state sent after the sender's clock
    // jumped is held (not merged); the next clock input lets the sender answer the receiver's
    // challenge, and the held state is merged then. If this broke, drift inputs would only ever meet
    // refusals.
    private static void CheckDriftIsHeldThenReleased(FuzzMesh mesh)
    {
        byte[] state = StateRecord("seed-drifted", Laptop(), GossipReceiverTarget.Now.UtcTicks);
        using var target = new GossipReceiverTarget(mesh);
        int before = target.ViewCount;
        if (target.Run(FuzzInput.Drift(sbyte.MaxValue, state)) || target.ViewCount != before)
        {
            throw new InvalidOperationException("A state sent after the sender's clock jumped 32 s was merged at once: drift inputs do not reach the held path.");
        }

        target.Run(FuzzInput.Clock(4));
        if (target.ViewCount != before + 1)
        {
            throw new InvalidOperationException($"The held state was not merged once the sender proved itself again (view of {target.ViewCount} node(s), {before} before).");
        }
    }

    // A state record of this version cut to an older layout's length after the node id, its record
    // length rewritten: what a sender of that version wrote (the older layout is a prefix of this one).
    private static byte[] CutTo(byte[] record, int bytesAfterId)
    {
        int idBytes = record[WireFormat.RecordHeaderBytes];
        int payload = 1 + idBytes + bytesAfterId;
        byte[] cut = record[..(WireFormat.RecordHeaderBytes + payload)];
        BinaryPrimitives.WriteUInt16LittleEndian(cut.AsSpan(1), (ushort)payload);
        return cut;
    }

    private static byte[] StateRecord(string nodeId, NodeCostFactors factors, long nowTicks)
    {
        WireOwnState state = default;
        WireQuantizer.FromFactors(factors, capabilitiesVersion: 1, ref state);
        byte[] buffer = new byte[WireCodec.StateRecordBytes(Encoding.UTF8.GetByteCount(nodeId))];
        if (!WireCodec.TryWriteState(buffer, Encoding.UTF8.GetBytes(nodeId), state, nowTicks, out _))
        {
            throw new InvalidOperationException($"The state of '{nodeId}' did not encode.");
        }

        return buffer;
    }

    private static byte[] CapabilitiesRecord(string nodeId)
    {
        byte[] buffer = new byte[512];
        if (!WireCodec.TryWriteCapabilities(buffer, Encoding.UTF8.GetBytes(nodeId), Generation, Capabilities(nodeId), out int written))
        {
            throw new InvalidOperationException($"The capabilities of '{nodeId}' did not encode.");
        }

        return buffer[..written];
    }

    /// <summary>A GPU box's capabilities: two models, one relayed route.</summary>
    internal static NodeCapabilities Capabilities(string nodeId) =>
        new(nodeId, 1)
        {
            Models =
            [
                new ServedModel("llama-3.1-8b-instruct") { ParameterBillions = 8, QuantizationBits = 4, ContextTokens = 131_072, DecodeTokensPerSecond = 95, ParallelSlots = 4 },
                new ServedModel("qwen2.5-coder-32b") { ParameterBillions = 32, PrefillTokensPerSecond = 2_400 },
            ],
            Relays = [new RelayRoute("mixtral-8x22b", "seed-laptop", 1)],
        };

    private static byte[] CookieRecord(RecordKind kind, Cookie cookie)
    {
        byte[] record = new byte[WireCodec.CookieRecordBytes];
        WireCodec.TryWriteCookie(record, kind, cookie, out _);
        return record;
    }

    /// <summary>A laptop on battery: most readings measured, trends estimated.</summary>
    internal static NodeCostFactors Laptop()
    {
        DateTimeOffset t = GossipReceiverTarget.Now.AddSeconds(-2);
        const string Source = "seed";
        return new NodeCostFactors("seed", Generation, 7, t)
        {
            Power = new PowerFactors
            {
                Source = Reading.Measured(PowerSource.Battery, t, Source),
                ChargeState = Reading.Measured(ChargeState.Discharging, t, Source),
                BatteryCount = Reading.Measured(1, t, Source),
                BatteryPercent = Reading.Measured(63.5, t, Source),
                BatteryRateWatts = Reading.Measured(14.2, t, Source),
            },
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.27, t, Source), MemoryPressure = Reading.Measured(0.1, t, Source) },
            Thermal = new ThermalFactors { Level = Reading.Measured(ThermalLevel.Fair, t, Source), ThrottleRatio = Reading.Measured(0.0, t, Source), HottestCelsius = Reading.Measured(71.0, t, Source) },
            Network = new NetworkFactors { Metered = Reading.Measured(false, t, Source), BandwidthBitsPerSecond = Reading.Estimated(250e6, t, Source) },
            Container = new ContainerFactors { CpuLimitCores = Reading.Measured(ResourceLimit.Unlimited, t, Source) },
            Pending = new PendingWork { QueueDepth = Reading.Measured(3, t, Source), InFlight = Reading.Measured(1, t, Source) },
            Trends = new TrendFactors { BatteryPercentPerHour = Reading.Estimated(-22.0, t, Source), LoadSlopePerMinute = Reading.Estimated(0.02, t, Source) },
        };
    }

    /// <summary>The laptop with its server's arrival meter and its router's rate: the fields appended last to the state layout.</summary>
    internal static NodeCostFactors Busy()
    {
        NodeCostFactors laptop = Laptop();
        return laptop with { Pending = laptop.Pending with { ArrivalsPerSecond = Reading.Estimated(3.5, laptop.CapturedAt, "seed"), RoutedPerSecond = Reading.Estimated(0.25, laptop.CapturedAt, "seed") } };
    }

    /// <summary>A mains-powered box with two GPUs inside a CPU-limited container; some readings unknown or unsupported.</summary>
    internal static NodeCostFactors GpuBox()
    {
        DateTimeOffset t = GossipReceiverTarget.Now.AddSeconds(-30);
        const string Source = "seed";
        return new NodeCostFactors("seed", Generation, 41, t)
        {
            Power = new PowerFactors
            {
                Source = Reading.Measured(PowerSource.Mains, t, Source),
                ChargeState = Reading.NotSupported<ChargeState>("no battery", t),
                BatteryCount = Reading.Measured(0, t, Source),
            },
            Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.64, t, Source), MemoryPressure = Reading.Unknown<double>("psi unavailable", t) },
            Gpu = new GpuFactors
            {
                DeviceCount = Reading.Measured(2, t, Source),
                Devices =
                [
                    new GpuDevice { Utilization = Reading.Measured(0.91, t, Source), PowerWatts = Reading.Measured(310.0, t, Source) },
                    new GpuDevice { Utilization = Reading.Measured(0.12, t, Source), PowerWatts = Reading.Measured(65.0, t, Source) },
                ],
            },
            Thermal = new ThermalFactors { Level = Reading.Measured(ThermalLevel.Serious, t, Source), HottestCelsius = Reading.Measured(83.0, t, Source) },
            Container = new ContainerFactors { CpuLimitCores = Reading.Measured(ResourceLimit.Of(12), t, Source) },
            Pending = new PendingWork { QueueDepth = Reading.Measured(17, t, Source), InFlight = Reading.Measured(6, t, Source) },
        };
    }
}
