using CostModel.Factors;

namespace CostModel.Gossip;

/// <summary>
/// One copy of each node's capabilities per generation and version, shared by the gossip adapters
/// of one process that opt in (<see cref="GossipAdapter.SharedCapabilities"/>): a simulator hosting
/// a thousand nodes otherwise holds a thousand decoded copies of every node's capabilities.
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

    /// <summary>Creates an empty interner.</summary>
    /// <param name="capacity">The most entries held before it starts afresh.</param>
    public CapabilitiesInterner(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
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
}
