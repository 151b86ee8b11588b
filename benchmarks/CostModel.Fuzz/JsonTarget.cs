using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using CostModel.Serialization;

namespace CostModel.Fuzz;

/// <summary>
/// The library's JSON readers (<see cref="CostModelJson.DeserializeFactors"/>,
/// <see cref="CostModelJson.DeserializeCapabilities"/>, and the price tables' <c>PriceTable.Parse</c>)
/// on text a host may take from anywhere (a file, an HTTP body, another transport, LiteLLM's price
/// file fetched from the web): each input, read as UTF-8, is offered to all three.
/// </summary>
/// <remarks>
/// Invariants (each broken one throws <see cref="InvariantViolationException"/>): a reader refuses
/// bad text only with the <see cref="JsonException"/> its documentation names, never another
/// exception; a snapshot it takes round-trips through JSON (<see cref="SnapshotChecks.CheckJson"/>)
/// and, when gossip would publish it (its generation one peers take), a peer's checks accept its
/// state record (<see cref="SnapshotChecks.CheckWire"/>: otherwise the node's state would be dropped
/// mesh-wide); capabilities it takes
/// serialise and read back equal, and, when they fit a record, a peer's checks read them; a price
/// table refuses bad text only with the <see cref="FormatException"/> the catalog catches (anything
/// else would escape a host price source's refresh), and every row it takes is found again by its
/// model's name with a finite, non-negative price.
/// </remarks>
internal sealed class JsonTarget : IFuzzTarget
{
    // Room for the largest capabilities record a message can carry.
    private readonly byte[] _record = new byte[GossipDefaults.MaxMtu];
    private string _last = "";

    /// <inheritdoc />
    public long Inputs { get; private set; }

    /// <inheritdoc />
    public bool Run(ReadOnlySpan<byte> input)
    {
        Inputs++;
        string json = Encoding.UTF8.GetString(input);
        bool factors = TryFactors(json);
        bool capabilities = TryCapabilities(json);
        bool prices = TryPriceTable(json);
        string[] taken = [.. new[] { (factors, "a snapshot"), (capabilities, "capabilities"), (prices, "a price table") }.Where(t => t.Item1).Select(t => t.Item2)];
        _last = taken.Length == 0 ? "refused by every reader" : "taken as " + string.Join(" and as ", taken);
        return taken.Length > 0;
    }

    /// <inheritdoc />
    public string Describe(bool result) => _last;

    /// <inheritdoc />
    public void Dispose()
    {
        // Nothing held.
    }

    // Runs a reader: true with what it took; false when it refused with TRefusal, the exception its
    // callers expect; any other exception breaks the invariant.
    private static bool TryRead<T, TRefusal>(Func<string, T> read, string reader, string json, [NotNullWhen(true)] out T? value)
        where T : class
        where TRefusal : Exception
    {
        try
        {
            value = read(json);
            return true;
        }
        catch (TRefusal)
        {
            value = null;
            return false;
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"{reader} threw {ex.GetType().Name}, not the {typeof(TRefusal).Name} its callers expect: {json}", ex);
        }
    }

    private static bool TryFactors(string json)
    {
        if (!TryRead<NodeCostFactors, JsonException>(CostModelJson.DeserializeFactors, "DeserializeFactors", json, out NodeCostFactors? snapshot))
        {
            return false;
        }

        string context = $"Read from: {json}";
        SnapshotChecks.CheckJson(snapshot, context);

        // Published at its own capture time, as a node publishes the snapshot it just took.
        SnapshotChecks.CheckWire(snapshot, snapshot.CapturedAt, context);
        return true;
    }

    private static bool TryPriceTable(string json)
    {
        if (!TryRead<Pricing.PriceTable, FormatException>(text => Pricing.PriceTable.Parse(text, "fuzz"), "PriceTable.Parse", json, out Pricing.PriceTable? table))
        {
            return false;
        }

        foreach (Pricing.ModelPrice row in table.Prices)
        {
            if (!double.IsFinite(row.InputDollarsPerMillionTokens) || row.InputDollarsPerMillionTokens < 0
                || !double.IsFinite(row.OutputDollarsPerMillionTokens) || row.OutputDollarsPerMillionTokens < 0)
            {
                throw new InvariantViolationException($"A price table row of {row.Model} has a price that is negative or not finite: {json}");
            }

            if (!table.TryFind(row.Model, out _))
            {
                throw new InvariantViolationException($"A price table row of '{row.Model}' is not found by its own name: {json}");
            }
        }

        return true;
    }

    private bool TryCapabilities(string json)
    {
        if (!TryRead<NodeCapabilities, JsonException>(CostModelJson.DeserializeCapabilities, "DeserializeCapabilities", json, out NodeCapabilities? capabilities))
        {
            return false;
        }

        NodeCapabilities copy;
        string again;
        try
        {
            again = CostModelJson.Serialize(capabilities);
            copy = CostModelJson.DeserializeCapabilities(again);
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"Capabilities read from JSON did not round-trip: {json}", ex);
        }

        if (CostModelJson.Serialize(copy) != again)
        {
            throw new InvariantViolationException($"Capabilities read back from JSON differ: {again}");
        }

        if (WireCodec.TryWriteCapabilities(_record, Encoding.UTF8.GetBytes(capabilities.NodeId), generation: 1, capabilities, out int written))
        {
            ReadOnlySpan<byte> records = _record.AsSpan(0, written);
            if (!WireCodec.TryReadRecord(ref records, out _, out ReadOnlySpan<byte> payload, out _))
            {
                throw new InvariantViolationException($"A capabilities record is not framed: {again}");
            }

            Span<char> nodeId = stackalloc char[NodeCostFactors.MaxNodeIdLength];
            WireRejection read = WireCodec.TryReadCapabilities(payload, nodeId, out _, out _, out _);
            if (read != WireRejection.None)
            {
                throw new InvariantViolationException($"A peer refuses capabilities the model accepts ({read}): {again}");
            }
        }

        return true;
    }
}
