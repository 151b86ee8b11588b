using System.Collections.Immutable;

namespace CostModel.Mesh;

/// <summary>
/// A mesh view the host (or the gossip adapter) updates: readers get an immutable snapshot;
/// writers swap it atomically. Thread-safe. Bounded to <see cref="MaxNodes"/> nodes.
/// </summary>
public sealed class MeshView : IMeshView
{
    /// <summary>4,096 nodes: the design's default cap on the mesh view.</summary>
    public const int MaxNodes = 4_096;

    private readonly Lock _gate = new();
    private ImmutableArray<MeshNode> _nodes = [];

    // The same boxed list until the next write, so readers can tell "unchanged" by reference.
    private volatile IReadOnlyList<MeshNode> _snapshot = ImmutableArray<MeshNode>.Empty;

    /// <inheritdoc />
    /// <remarks>The same instance is returned until the view changes.</remarks>
    public IReadOnlyList<MeshNode> Nodes => _snapshot;

    /// <summary>Adds a node or replaces the entry with the same id.</summary>
    /// <param name="node">The node.</param>
    /// <returns>False when the view is full and the node is new (it is not added).</returns>
    public bool Upsert(MeshNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        lock (_gate)
        {
            ImmutableArray<MeshNode> nodes = _nodes;
            for (int i = 0; i < nodes.Length; i++)
            {
                if (string.Equals(nodes[i].NodeId, node.NodeId, StringComparison.Ordinal))
                {
                    Publish(nodes.SetItem(i, node));
                    return true;
                }
            }

            if (nodes.Length >= MaxNodes)
            {
                return false;
            }

            Publish(nodes.Add(node));
            return true;
        }
    }

    /// <summary>Removes a node.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <returns>True when it was there.</returns>
    public bool Remove(string nodeId)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        lock (_gate)
        {
            ImmutableArray<MeshNode> nodes = _nodes;
            for (int i = 0; i < nodes.Length; i++)
            {
                if (string.Equals(nodes[i].NodeId, nodeId, StringComparison.Ordinal))
                {
                    Publish(nodes.RemoveAt(i));
                    return true;
                }
            }

            return false;
        }
    }

    private void Publish(ImmutableArray<MeshNode> nodes)
    {
        _nodes = nodes;
        _snapshot = nodes;
    }
}
