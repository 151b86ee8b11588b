using System.Text;
using CostModel.Factors;
using CostModel.Gossip.Wire;

namespace CostModel.Gossip;

/// <summary>
/// One copy of each node's capabilities per generation and version, shared by the gossip adapters
/// of one process that opt in (<see cref="GossipAdapter.SharedCapabilities"/>): a simulator hosting
/// a thousand nodes otherwise holds a thousand decoded copies of every node's capabilities. Those
/// adapters also share the decoding of each exact capabilities record (<see cref="TryRead"/>) and
/// one copy of each node id with its UTF-8 bytes (<see cref="InternId"/>).
/// </summary>
/// <remarks>
/// A node publishes new capabilities with a new version, so within one mesh a node id, generation
/// and version name one content; the first copy interned is the one kept. That is an assumption
/// about honest senders, which is why adapters share an interner only when their host says so (a
/// simulator, whose nodes it runs itself); alone, an adapter already keeps the first copy of a
/// version it hears. Bounded: when <see cref="Capacity"/> entries are held, it starts afresh.
/// Thread-safe.
/// </remarks>
internal sealed class CapabilitiesInterner
{
    /// <summary>16,384 entries: four versions of each node of a view at its default cap (4,096).</summary>
    public const int DefaultCapacity = 16_384;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string NodeId, long Generation, long Version), NodeCapabilities> _known = [];

    // The last capabilities record read of each node: its bytes and what they decoded to.
    private readonly Dictionary<string, RecordRead> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RecordRead>.AlternateLookup<ReadOnlySpan<char>> _recordsBySpan;

    // Node ids, with their UTF-8 form: one copy of each for every adapter that hears of the node.
    private readonly Dictionary<string, byte[]> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> _idsBySpan;

    /// <summary>Creates an empty interner.</summary>
    /// <param name="capacity">The most entries held before it starts afresh.</param>
    public CapabilitiesInterner(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _recordsBySpan = _records.GetAlternateLookup<ReadOnlySpan<char>>();
        _idsBySpan = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The most entries held before it starts afresh.</summary>
    public int Capacity { get; }

    /// <summary>Entries held.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _known.Count;
            }
        }
    }

    /// <summary>The copy already held for this node, generation and version, or <paramref name="decoded"/>, which is then held.</summary>
    /// <param name="generation">The generation the capabilities belong to.</param>
    /// <param name="decoded">Capabilities just decoded.</param>
    /// <returns>The shared copy.</returns>
    public NodeCapabilities Intern(long generation, NodeCapabilities decoded)
    {
        ArgumentNullException.ThrowIfNull(decoded);
        var key = (decoded.NodeId, generation, decoded.Version);
        lock (_gate)
        {
            if (_known.TryGetValue(key, out NodeCapabilities? known))
            {
                return known;
            }

            if (_known.Count >= Capacity)
            {
                _known.Clear();
            }

            _known.Add(key, decoded);
            return decoded;
        }
    }

    /// <summary>
    /// Reads a capabilities record as <see cref="WireCodec.TryReadCapabilities"/> does, decoding it
    /// only when these exact bytes were not read before: what a record decodes to depends on its
    /// bytes alone, and every node relays a node's capabilities as the same bytes, so a mesh of n
    /// nodes decodes each version once rather than some n times per relay round.
    /// </summary>
    /// <param name="record">The record's payload.</param>
    /// <param name="nodeId">Receives the node id.</param>
    /// <param name="nodeIdLength">The node id's length.</param>
    /// <param name="generation">The generation the capabilities belong to.</param>
    /// <param name="capabilities">What the bytes decode to, when valid: one copy shared by every reader of these bytes (<see cref="Intern"/> still decides which copy a node keeps).</param>
    /// <returns>What <see cref="WireCodec.TryReadCapabilities"/> returns for these bytes.</returns>
    public WireRejection TryRead(ReadOnlySpan<byte> record, Span<char> nodeId, out int nodeIdLength, out long generation, out NodeCapabilities? capabilities)
    {
        if (WireCodec.TryPeekCapabilities(record, nodeId, out nodeIdLength, out generation, out long version) == WireRejection.None)
        {
            lock (_gate)
            {
                if (_recordsBySpan.TryGetValue(nodeId[..nodeIdLength], out RecordRead? read)
                    && read.Generation == generation && read.Version == version && record.SequenceEqual(read.Record))
                {
                    capabilities = read.Capabilities;
                    return WireRejection.None;
                }
            }
        }

        WireRejection rejection = WireCodec.TryReadCapabilities(record, nodeId, out nodeIdLength, out generation, out capabilities);
        if (rejection == WireRejection.None)
        {
            lock (_gate)
            {
                if (_records.Count >= Capacity)
                {
                    _records.Clear();
                }

                _records[capabilities!.NodeId] = new RecordRead(generation, capabilities.Version, record.ToArray(), capabilities);
            }
        }

        return rejection;
    }

    /// <summary>The shared copy of a node id and its UTF-8 bytes (the id must be valid: read from a checked record).</summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="utf8">Its UTF-8 bytes, shared too: never to be written.</param>
    /// <returns>The shared id.</returns>
    public string InternId(ReadOnlySpan<char> nodeId, out byte[] utf8)
    {
        lock (_gate)
        {
            if (_idsBySpan.TryGetValue(nodeId, out string? id, out byte[]? bytes))
            {
                utf8 = bytes;
                return id;
            }

            if (_ids.Count >= Capacity)
            {
                _ids.Clear();
            }

            id = new string(nodeId);
            utf8 = Encoding.UTF8.GetBytes(id);
            _ids.Add(id, utf8);
            return id;
        }
    }

    private sealed record RecordRead(long Generation, long Version, byte[] Record, NodeCapabilities Capabilities);
}
