using System.Collections.Immutable;
using System.Reactive.Subjects;
using System.Runtime.InteropServices;

namespace CostModel.Mesh;

/// <summary>
/// The mesh view: the host (through <see cref="Upsert"/> and <see cref="Remove"/>) and the gossip
/// adapter write it; readers get an immutable snapshot, rebuilt on the first read after a change.
/// Thread-safe. Bounded to <see cref="MaxNodes"/> nodes.
/// </summary>
public sealed class MeshView : IMeshView, IDisposable
{
    /// <summary>4,096 nodes: the design's default cap on the mesh view.</summary>
    public const int MaxNodes = 4_096;

    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly Subject<MeshChange> _changes = new();

    // Null after a change: the next read rebuilds it. The same instance until the next change, so
    // readers can tell "unchanged" by reference.
    private volatile IReadOnlyList<MeshNode>? _snapshot = ImmutableArray<MeshNode>.Empty;

    /// <summary>Creates an empty view.</summary>
    /// <param name="maxNodes">The cap on nodes (default <see cref="MaxNodes"/>); new nodes beyond it are refused.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNodes"/> is below 1.</exception>
    public MeshView(int maxNodes = MaxNodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNodes, 1);
        Capacity = maxNodes;
    }

    /// <summary>The cap on nodes.</summary>
    public int Capacity { get; }

    /// <inheritdoc />
    /// <remarks>The same instance is returned until the view changes.</remarks>
    public IReadOnlyList<MeshNode> Nodes => _snapshot ?? Rebuild();

    /// <inheritdoc />
    public IObservable<MeshChange> Changes => _changes;

    /// <summary>The one lock behind the view; the gossip adapter merges under it too, so a reader never sees half a merge.</summary>
    internal Lock Gate { get; } = new();

    /// <summary>The number of entries (under <see cref="Gate"/>).</summary>
    internal int Count => _entries.Count;

    /// <summary>Adds a node or replaces the entry with the same id.</summary>
    /// <param name="node">The node.</param>
    /// <param name="at">When this happened, for the change stream (default: unknown, <see cref="DateTimeOffset.MinValue"/>).</param>
    /// <returns>False when the view is full and the node is new (it is not added).</returns>
    public bool Upsert(MeshNode node, DateTimeOffset at = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        MeshChangeKind kind;
        lock (Gate)
        {
            if (_index.TryGetValue(node.NodeId, out int i))
            {
                _entries[i] = new Entry(node, null);
                kind = MeshChangeKind.Updated;
            }
            else
            {
                if (_entries.Count >= Capacity)
                {
                    return false;
                }

                _index.Add(node.NodeId, _entries.Count);
                _entries.Add(new Entry(node, null));
                kind = MeshChangeKind.Joined;
            }

            _snapshot = null;
        }

        Publish(new MeshChange(node.NodeId, kind, at));
        return true;
    }

    /// <summary>Removes a node.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="at">When this happened, for the change stream.</param>
    /// <returns>True when it was there.</returns>
    public bool Remove(string nodeId, DateTimeOffset at = default)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        lock (Gate)
        {
            if (!RemoveLocked(nodeId))
            {
                return false;
            }
        }

        Publish(new MeshChange(nodeId, MeshChangeKind.Removed, at));
        return true;
    }

    /// <inheritdoc />
    public void Dispose() => _changes.Dispose();

    /// <summary>Adds an entry whose node is built on demand (caller holds <see cref="Gate"/>). False when full or present.</summary>
    internal bool TryAddSourceLocked(MeshEntrySource source)
    {
        if (_entries.Count >= Capacity || _index.ContainsKey(source.NodeId))
        {
            return false;
        }

        _index.Add(source.NodeId, _entries.Count);
        _entries.Add(new Entry(null, source));
        _snapshot = null;
        return true;
    }

    /// <summary>Removes an entry (caller holds <see cref="Gate"/>).</summary>
    internal bool RemoveLocked(string nodeId)
    {
        if (!_index.Remove(nodeId, out int i))
        {
            return false;
        }

        int last = _entries.Count - 1;
        if (i != last)
        {
            Entry moved = _entries[last];
            _entries[i] = moved;
            _index[moved.NodeId] = i;
        }

        _entries.RemoveAt(last);
        _snapshot = null;
        return true;
    }

    /// <summary>Marks the view changed (caller holds <see cref="Gate"/>): the next read rebuilds the snapshot.</summary>
    internal void InvalidateLocked() => _snapshot = null;

    /// <summary>True when someone listens to <see cref="Changes"/> (so a writer can skip building "updated" events nobody reads).</summary>
    internal bool HasChangeSubscribers => _changes.HasObservers;

    /// <summary>Publishes a change to subscribers (call outside <see cref="Gate"/>).</summary>
    internal void Publish(MeshChange change) => _changes.OnNext(change);

    private IReadOnlyList<MeshNode> Rebuild()
    {
        lock (Gate)
        {
            if (_snapshot is { } current)
            {
                return current;
            }

            var nodes = new List<MeshNode>(_entries.Count);
            foreach (Entry entry in _entries)
            {
                if ((entry.Node ?? entry.Source!.Current()) is { } node)
                {
                    nodes.Add(node);
                }
            }

            IReadOnlyList<MeshNode> snapshot = ImmutableCollectionsMarshal.AsImmutableArray(nodes.ToArray());
            _snapshot = snapshot;
            return snapshot;
        }
    }

    private readonly record struct Entry(MeshNode? Node, MeshEntrySource? Source)
    {
        public string NodeId => Node?.NodeId ?? Source!.NodeId;
    }
}

/// <summary>
/// An entry of the view kept in another form (the gossip adapter keeps wire states) and turned
/// into a <see cref="MeshNode"/> only when the view is read after it changed.
/// </summary>
internal abstract class MeshEntrySource(string nodeId)
{
    private MeshNode? _built;

    /// <summary>The node id.</summary>
    public string NodeId { get; } = nodeId;

    /// <summary>True when the entry changed since it was last built.</summary>
    public bool Changed { get; private set; } = true;

    /// <summary>Marks the entry changed (under the view's gate).</summary>
    public void MarkChanged() => Changed = true;

    /// <summary>The node as of now (under the view's gate); null when there is nothing to show yet.</summary>
    public MeshNode? Current()
    {
        if (Changed)
        {
            _built = Build();
            Changed = false;
        }

        return _built;
    }

    /// <summary>Builds the node from the kept form.</summary>
    protected abstract MeshNode? Build();
}
