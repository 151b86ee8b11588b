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
