using System.Text;
using System.Text.Json.Nodes;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Serialization;

namespace CostModel.Fuzz;

/// <summary>
/// What must hold of any snapshot a node holds, whether its probes read it (<see cref="LinuxMachineTarget"/>)
/// or a host read it from JSON (<see cref="JsonTarget"/>): it round-trips through JSON, every reading
/// without a value names its reason, and gossip can carry it (a peer's checks take the node's own
/// state record, and it builds as factors there). Each check throws
/// <see cref="InvariantViolationException"/> with <c>context</c> appended.
/// </summary>
internal static class SnapshotChecks
{
    /// <summary>The node id the state records are written under.</summary>
    public const string NodeId = "fuzz-node";

    private static readonly byte[] NodeIdUtf8 = Encoding.UTF8.GetBytes(NodeId);

    /// <summary>
    /// The JSON a host logs or serves: it must serialise (no NaN, no infinity), read back equal, and
    /// give every reading without a value a reason. Returns the readings without a value, as
    /// group.reading: reason.
    /// </summary>
    public static List<string> CheckJson(NodeCostFactors snapshot, string context)
    {
        string json;
        NodeCostFactors copy;
        try
        {
            json = CostModelJson.Serialize(snapshot);
            copy = CostModelJson.DeserializeFactors(json);
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"The snapshot did not round-trip through JSON. {context}", ex);
        }

        if (copy.Power != snapshot.Power || copy.Compute != snapshot.Compute || copy.Thermal != snapshot.Thermal || copy.Network != snapshot.Network
            || copy.Container != snapshot.Container || copy.Pending != snapshot.Pending || copy.Trends != snapshot.Trends
            || copy.Gpu.DeviceCount != snapshot.Gpu.DeviceCount || !copy.Gpu.Devices.SequenceEqual(snapshot.Gpu.Devices))
        {
            throw new InvariantViolationException($"The snapshot read back from JSON differs: {json}. {context}");
        }

        var unknown = new List<string>();
        Walk(JsonNode.Parse(json), "", unknown);
        return unknown;
    }

    /// <summary>
    /// The snapshot as gossip carries it: quantised, numbered as the adapter numbers its publications
    /// (from 1), written as a state record at <paramref name="now"/>, and read back by the receive
    /// path's record checks (what every peer runs), then built as factors. A generation the adapter
    /// refuses to publish (<see cref="GossipAdapter.UnpublishableGeneration"/>: logged, never sent) is
    /// not checked further. Returns false for such a generation.
    /// </summary>
    public static bool CheckWire(NodeCostFactors snapshot, DateTimeOffset now, string context)
    {
        if (GossipAdapter.UnpublishableGeneration(snapshot.Generation, now, (long)GossipDefaults.MaxGenerationLead.TotalMilliseconds) is not null)
        {
            return false;
        }

        long nowTicks = now.UtcTicks;
        WireOwnState state = default;
        WireQuantizer.FromFactors(snapshot, capabilitiesVersion: 1, ref state);
        state.State.Version = 1;
        byte[] record = new byte[WireCodec.StateRecordBytes(NodeIdUtf8.Length)];
        if (!WireCodec.TryWriteState(record, NodeIdUtf8, state, nowTicks, out int written))
        {
            throw new InvariantViolationException($"The state did not encode for gossip. {context}");
        }

        ReadOnlySpan<byte> records = record.AsSpan(0, written);
        if (!WireCodec.TryReadRecord(ref records, out _, out ReadOnlySpan<byte> payload, out _))
        {
            throw new InvariantViolationException($"The state record is not framed. {context}");
        }

        Span<char> id = stackalloc char[NodeCostFactors.MaxNodeIdLength];
        WireRejection read = WireCodec.TryReadState(payload, nowTicks, id, out int idLength, out WireNodeState received);
        if (read != WireRejection.None)
        {
            throw new InvariantViolationException($"A peer refuses this state ({read}): {CostModelJson.Serialize(snapshot)}. {context}");
        }

        try
        {
            WireQuantizer.ToFactors(new string(id[..idLength]), received);
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"A peer cannot build this state as factors: {CostModelJson.Serialize(snapshot)}. {context}", ex);
        }

        return true;
    }

    private static void Walk(JsonNode? node, string path, List<string> unknown)
    {
        if (node is JsonObject obj)
        {
            if (obj["quality"] is JsonValue quality && quality.TryGetValue(out string? q))
            {
                bool hasValue = q is "measured" or "estimated" or "overridden";
                string? reason = obj["reason"] is JsonValue r && r.TryGetValue(out string? text) ? text : null;
                if (!hasValue && string.IsNullOrWhiteSpace(reason))
                {
                    throw new InvariantViolationException($"The reading {path} is {q} without a reason.");
                }

                if (!hasValue)
                {
                    unknown.Add($"{path}: {reason}");
                }

                return;
            }

            foreach (KeyValuePair<string, JsonNode?> property in obj)
            {
                Walk(property.Value, path.Length == 0 ? property.Key : $"{path}.{property.Key}", unknown);
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                Walk(array[i], $"{path}[{i}]", unknown);
            }
        }
    }

    /// <summary>
    /// One collection of a machine target, checked: the collector must not throw, no probe may reach its
    /// last-resort catch (<paramref name="probeExceptions"/>, cleared first), the snapshot must pass
    /// <see cref="CheckJson"/> and <see cref="CheckWire"/>. The Linux and mac targets collect through it.
    /// </summary>
    /// <param name="collector">The machine's collector.</param>
    /// <param name="probeExceptions">The listener of the collector's last-resort catch.</param>
    /// <param name="now">The machine's clock after the collection.</param>
    /// <param name="context">What the input changed, for the messages.</param>
    /// <param name="snapshot">The snapshot collected.</param>
    /// <returns>The readings without a value (<see cref="CheckJson"/>).</returns>
    /// <exception cref="InvariantViolationException">An invariant was broken.</exception>
    public static List<string> Collect(ICostCollector collector, ProbeExceptions probeExceptions, Func<DateTimeOffset> now, Func<string> context, out NodeCostFactors snapshot)
    {
        probeExceptions.Clear();
        try
        {
            snapshot = collector.Collect();
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException("ICostCollector.Collect threw.", ex);
        }

        string described = context();
        if (probeExceptions.Seen.Count > 0)
        {
            throw new InvariantViolationException($"A probe reached the collector's last-resort catch: {string.Join("; ", probeExceptions.Seen)}. {described}");
        }

        List<string> unknown = CheckJson(snapshot, described);
        if (!CheckWire(snapshot, now(), described))
        {
            throw new InvariantViolationException($"The collector took a generation gossip cannot publish: {snapshot.Generation}.");
        }

        return unknown;
    }

    /// <summary>
    /// The energy left is at most <paramref name="maxOverFull"/> of full when both are known (the
    /// macOS and Windows power readers refuse more).
    /// </summary>
    /// <param name="power">The snapshot's power group.</param>
    /// <param name="maxOverFull">The reader's bound, as a fraction of full.</param>
    /// <param name="context">What the input changed, for the message.</param>
    /// <exception cref="InvariantViolationException">The battery holds more.</exception>
    public static void CheckBatteryBelowFull(PowerFactors power, double maxOverFull, string context)
    {
        if (power.RemainingWattHours.HasValue && power.FullWattHours.HasValue
            && power.RemainingWattHours.GetValueOrDefault(0) > power.FullWattHours.GetValueOrDefault(0) * maxOverFull)
        {
            throw new InvariantViolationException($"The battery holds {power.RemainingWattHours} of {power.FullWattHours}, more than {maxOverFull} of full. {context}");
        }
    }

    /// <summary>A machine target's line for the replay modes: whether the input read as the healthy <paramref name="machine"/> reads, and the first readings without a value.</summary>
    /// <param name="asHealthy">What <see cref="IFuzzTarget.Run"/> returned.</param>
    /// <param name="unknown">The readings without a value.</param>
    /// <param name="machine">"machine", "Mac".</param>
    /// <returns>The line.</returns>
    public static string DescribeMachine(bool asHealthy, IReadOnlyList<string> unknown, string machine) =>
        $"{(asHealthy ? $"read as the healthy {machine} reads" : "some readings Unknown")}; {unknown.Count} reading(s) without a value" +
        (unknown.Count == 0 ? "" : ": " + string.Join("; ", unknown.Take(MaxDescribed)) + (unknown.Count > MaxDescribed ? "; ..." : ""));

    // The readings without a value a replay line names at most.
    private const int MaxDescribed = 8;
}
