using CostModel.Factors;

namespace CostModel.Mesh;

/// <summary>
/// What this node knows about the mesh: every node's latest factors and capabilities with its
/// liveness. The router reads it; the gossip adapter (or the host) writes it.
/// </summary>
public interface IMeshView
{
    /// <summary>
    /// An immutable snapshot of the known nodes. Cheap to read: the router reads it on every
    /// request. Implementations return the same instance until the view changes, so readers can
    /// cache what they derive from it by reference.
    /// </summary>
    IReadOnlyList<MeshNode> Nodes { get; }

    /// <summary>Every change of the view: joined, updated, suspect, dead, recovered, removed.</summary>
    IObservable<MeshChange> Changes { get; }
}

/// <summary>
/// Writes the library's mesh view for a host that learns of nodes itself (its own discovery, a
/// static list) instead of, or beside, gossip. Registered by <c>AddCostModel</c>; the view it writes
/// is the <see cref="IMeshView"/> the router reads.
/// </summary>
/// <remarks>
/// Beside gossip, the host's entry for an id wins: an <see cref="Upsert"/> replaces what gossip
/// showed under that id, gossip neither takes the id over while the host's entry holds it nor
/// removes that entry when it forgets the node. <see cref="Remove"/> of a node gossip tracks hides it
/// for as long as gossip holds the node: it shows again only once gossip has forgotten it (silent
/// past its dead and removal times) and hears it afresh. Once the host has written or removed an id
/// that gossip tracked, <see cref="IMeshView.Changes"/> carries nothing more of gossip's record of
/// it (no update, suspect, dead or removed: those would describe a node the view does not show),
/// while gossip goes on relaying the node to its peers.
/// </remarks>
public interface IMeshViewWriter
{
    /// <summary>Adds a node or replaces the entry with the same id.</summary>
    /// <param name="node">The node.</param>
    /// <param name="at">When this happened, for the change stream (default: unknown, <see cref="DateTimeOffset.MinValue"/>).</param>
    /// <returns>False when the view is full and the node is new (it is not added).</returns>
    bool Upsert(MeshNode node, DateTimeOffset at = default);

    /// <summary>Removes a node.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="at">When this happened, for the change stream.</param>
    /// <returns>True when it was there.</returns>
    bool Remove(string nodeId, DateTimeOffset at = default);
}

/// <summary>One node as this node knows it.</summary>
public sealed record MeshNode
{
    /// <summary>Creates an entry.</summary>
    /// <param name="factors">The node's latest cost factors.</param>
    /// <param name="capabilities">What it serves (its node id must match the factors').</param>
    /// <exception cref="ArgumentException">The two describe different nodes.</exception>
    public MeshNode(NodeCostFactors factors, NodeCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(factors);
        ArgumentNullException.ThrowIfNull(capabilities);
        if (!string.Equals(factors.NodeId, capabilities.NodeId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Factors of '{factors.NodeId}' and capabilities of '{capabilities.NodeId}' describe different nodes.", nameof(capabilities));
        }

        Factors = factors;
        Capabilities = capabilities;
    }

    /// <summary>The node id.</summary>
    public string NodeId => Factors.NodeId;

    /// <summary>The node's latest factors.</summary>
    public NodeCostFactors Factors { get; init; }

    /// <summary>What the node serves and can reach.</summary>
    public NodeCapabilities Capabilities { get; init; }

    /// <summary>Alive, suspect or dead, from missed heartbeats.</summary>
    public NodeLiveness Liveness { get; init; } = NodeLiveness.Alive;

    /// <summary>True for the node this process runs on.</summary>
    public bool IsLocal { get; init; }
}

/// <summary>Whether a node is believed to be running.</summary>
public enum NodeLiveness
{
    /// <summary>Heard from recently.</summary>
    Alive = 0,

    /// <summary>Missed heartbeats; may be gone.</summary>
    Suspect = 1,

    /// <summary>Gone; kept for a grace period before removal.</summary>
    Dead = 2,
}
