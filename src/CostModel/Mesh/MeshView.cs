using System.Collections.Immutable;
using System.Runtime.InteropServices;
using CostModel.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CostModel.Mesh;

/// <summary>
/// The mesh view: the host (through <see cref="Upsert"/> and <see cref="Remove"/>) and the gossip
/// adapter write it; readers get an immutable snapshot, rebuilt on the first read after a change.
/// Thread-safe. Bounded to <see cref="MaxNodes"/> nodes. <see cref="Changes"/> reaches subscribers
/// one change at a time, in the order the changes were made, on the thread of a writer (not
/// necessarily the one that made the change); a subscriber that throws is logged and counted, never
/// thrown into the writer. When 16,384 changes wait for a slow subscriber, writers wait for it, so
/// call <see cref="Upsert"/> and <see cref="Remove"/> holding no lock a subscriber takes. An entry
/// that cannot be built is left out of <see cref="Nodes"/> (logged and counted), never thrown to the reader.
/// </summary>
internal sealed class MeshView : IMeshView, IMeshViewWriter, IDisposable
{
    /// <summary>4,096 nodes: the design's default cap on the mesh view.</summary>
    public const int MaxNodes = 4_096;

    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly SafePublisher<MeshChange> _changes;

    // Copied on change, read under the gate: listeners are added once or twice in a process's life, not per change.
    private IMeshViewListener[] _listeners = [];
    private readonly CostModelMetrics? _metrics;
    private readonly ILogger _logger;

    // Null after a change: the next read rebuilds it. The same instance until the next change, so
    // readers can tell "unchanged" by reference.
    private volatile IReadOnlyList<MeshNode>? _snapshot = ImmutableArray<MeshNode>.Empty;

    /// <summary>Creates an empty view.</summary>
    /// <param name="maxNodes">The cap on nodes (default <see cref="MaxNodes"/>); new nodes beyond it are refused.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNodes"/> is below 1.</exception>
    public MeshView(int maxNodes = MaxNodes)
        : this(maxNodes, null, null)
    {
    }

    /// <summary>Creates an empty view that counts and logs what goes wrong (the container's view).</summary>
    /// <param name="maxNodes">The cap on nodes.</param>
    /// <param name="metrics">Where unreadable entries and subscriber failures are counted; null: nowhere.</param>
    /// <param name="logger">Where they are logged; null: nowhere.</param>
    internal MeshView(int maxNodes, CostModelMetrics? metrics, ILogger? logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNodes, 1);
        Capacity = maxNodes;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _changes = new SafePublisher<MeshChange>("mesh.changes", metrics, _logger);
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

        // The change is queued under the lock that made it, so changes reach subscribers in the order made.
        lock (Gate)
        {
            if (_index.TryGetValue(node.NodeId, out int i))
            {
                // A store's entry the host writes over is the store's no more: it is told, so that it
                // stops reporting changes of a node the view now shows as the host describes it.
                Entry replaced = _entries[i];
                _entries[i] = new Entry(node, null, 0);
                replaced.Store?.Released(replaced.Key);
                kind = MeshChangeKind.Updated;
                TellChangedLocked(node.NodeId);
            }
            else
            {
                if (_entries.Count >= Capacity)
                {
                    return false;
                }

                PeerTableGrowth.Add(_index, node.NodeId, _entries.Count);
                _entries.Add(new Entry(node, null, 0));
                kind = MeshChangeKind.Joined;
                TellReshapedLocked();
            }

            _snapshot = null;
            EnqueueChangeLocked(new MeshChange(node.NodeId, kind, at));
        }

        DeliverChanges();
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
            Entry removed = _index.TryGetValue(nodeId, out int i) ? _entries[i] : default;
            if (!RemoveLocked(nodeId))
            {
                return false;
            }

            removed.Store?.Released(removed.Key);
            EnqueueChangeLocked(new MeshChange(nodeId, MeshChangeKind.Removed, at));
        }

        DeliverChanges();
        return true;
    }

    /// <inheritdoc />
    /// <remarks>Subscribers to <see cref="Changes"/> get the changes still queued, then their <c>OnCompleted</c>.</remarks>
    public void Dispose() => _changes.Dispose();

    /// <summary>Adds an entry whose node is built on demand (caller holds <see cref="Gate"/>). False when full or present.</summary>
    internal bool TryAddSourceLocked(MeshEntrySource source) => TryAddEntryLocked(source.NodeId, source, 0);

    /// <summary>
    /// Adds an entry kept as record <paramref name="key"/> of <paramref name="store"/> and built on
    /// demand (caller holds <see cref="Gate"/>): the gossip adapter's per-node records, one store for
    /// all of them. False when full or present.
    /// </summary>
    internal bool TryAddEntryLocked(string nodeId, MeshEntryStore store, int key)
    {
        if (_entries.Count >= Capacity || _index.ContainsKey(nodeId))
        {
            return false;
        }

        PeerTableGrowth.Add(_index, nodeId, _entries.Count);
        _entries.Add(new Entry(null, store, key));
        _snapshot = null;
        TellReshapedLocked();
        return true;
    }

    /// <summary>True when the view lists <paramref name="nodeId"/>, whoever wrote it (caller holds <see cref="Gate"/>).</summary>
    internal bool ContainsLocked(string nodeId) => _index.ContainsKey(nodeId);

    /// <summary>
    /// Removes the entry of <paramref name="nodeId"/> only while it is record <paramref name="key"/> of
    /// <paramref name="store"/> (caller holds <see cref="Gate"/>): a store forgetting its node leaves
    /// alone an entry the host has written since under the same id. False when it was not.
    /// </summary>
    internal bool RemoveEntryLocked(string nodeId, MeshEntryStore store, int key) =>
        _index.TryGetValue(nodeId, out int i) && ReferenceEquals(_entries[i].Store, store) && _entries[i].Key == key && RemoveLocked(nodeId);

    /// <summary>Removes an entry (caller holds <see cref="Gate"/>).</summary>
    internal bool RemoveLocked(string nodeId)
    {
        if (!_index.Remove(nodeId, out int i))
        {
            return false;
        }

        foreach (IMeshViewListener listener in _listeners)
        {
            listener.NodeRemoved(nodeId);
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
        TellReshapedLocked();
        return true;
    }

    /// <summary>
    /// Tells <paramref name="listener"/>, under <see cref="Gate"/>, which nodes change and which leave
    /// (so it must be quick and must not read the view). For the library's own listeners (the router
    /// follows the view node by node and forgets a node's state at once): unlike <see cref="Changes"/>,
    /// it makes no writer build and deliver an event for every update.
    /// </summary>
    /// <returns>Dispose to stop listening.</returns>
    internal IDisposable Listen(IMeshViewListener listener)
    {
        lock (Gate)
        {
            _listeners = [.. _listeners, listener];
        }

        return new Listening(this, listener);
    }

    /// <summary>
    /// The node of <paramref name="nodeId"/> as a snapshot read now would show it (built from its kept
    /// form if it changed); null when the view does not list it (absent, nothing to show yet, or an
    /// entry that cannot be built, which is logged and counted as <see cref="Nodes"/> does).
    /// </summary>
    internal MeshNode? Find(string nodeId)
    {
        MeshNode? node;
        List<(string NodeId, Exception Error)>? unreadable = null;
        lock (Gate)
        {
            if (!_index.TryGetValue(nodeId, out int i))
            {
                return null;
            }

            Entry entry = _entries[i];
            node = entry.Node ?? TryBuild(entry, ref unreadable);
        }

        Report(unreadable);
        return node;
    }

    /// <summary>Marks the view changed (caller holds <see cref="Gate"/>): the next read rebuilds the snapshot. Listeners read the whole view again.</summary>
    internal void InvalidateLocked()
    {
        _snapshot = null;
        TellReshapedLocked();
    }

    /// <summary>Marks one node's entry changed (caller holds <see cref="Gate"/>): the next read rebuilds the snapshot; listeners hear which node.</summary>
    internal void InvalidateLocked(string nodeId)
    {
        _snapshot = null;
        TellChangedLocked(nodeId);
    }

    /// <summary>True when someone listens to <see cref="Changes"/> (so a writer can skip building "updated" events nobody reads).</summary>
    internal bool HasChangeSubscribers => _changes.HasObservers;

    /// <summary>
    /// Queues a change for subscribers (caller holds <see cref="Gate"/>, so changes queue in the order
    /// made); call <see cref="DeliverChanges"/> after releasing the gate.
    /// </summary>
    internal void EnqueueChangeLocked(MeshChange change) => _changes.Enqueue(change);

    /// <summary>Delivers the queued changes to subscribers (call outside <see cref="Gate"/>: subscribers run here).</summary>
    internal void DeliverChanges() => _changes.Deliver();

    /// <summary>
    /// Queues and delivers a change decided earlier (call outside <see cref="Gate"/>). Serialised and
    /// safe, but ordered only by when it is called: a writer whose changes must keep the order it
    /// decided them in uses <see cref="EnqueueChangeLocked"/> under the gate instead.
    /// </summary>
    internal void Publish(MeshChange change) => _changes.Publish(change);

    private IReadOnlyList<MeshNode> Rebuild()
    {
        IReadOnlyList<MeshNode> snapshot;
        List<(string NodeId, Exception Error)>? unreadable = null;
        lock (Gate)
        {
            if (_snapshot is { } current)
            {
                return current;
            }

            var nodes = new List<MeshNode>(_entries.Count);
            foreach (Entry entry in _entries)
            {
                if ((entry.Node ?? TryBuild(entry, ref unreadable)) is { } node)
                {
                    nodes.Add(node);
                }
            }

            snapshot = ImmutableCollectionsMarshal.AsImmutableArray(nodes.ToArray());
            _snapshot = snapshot;
        }

        Report(unreadable);
        return snapshot;
    }

    /// <summary>Logs and counts entries that could not be built; called outside the gate (a logger must not hold up the writers).</summary>
    private void Report(List<(string NodeId, Exception Error)>? unreadable)
    {
        if (unreadable is not null)
        {
            foreach ((string nodeId, Exception error) in unreadable)
            {
                string reason = error.GetType().Name;
                _metrics?.MeshEntryUnreadable(reason);
                Log.MeshEntryUnreadable(_logger, nodeId, reason, error);
            }
        }
    }

    private void TellChangedLocked(string nodeId)
    {
        foreach (IMeshViewListener listener in _listeners)
        {
            listener.NodeChanged(nodeId);
        }
    }

    private void TellReshapedLocked()
    {
        foreach (IMeshViewListener listener in _listeners)
        {
            listener.ViewReshaped();
        }
    }

    /// <summary>
    /// The entry's node, or null when it cannot be built (a corrupted kept state): the reader still
    /// gets the rest of the view. The entry is left in place, not dropped: its writer (the gossip
    /// adapter) owns it and removes it when the node goes, and a newer state may build; it is tried
    /// again only when it changes (<see cref="MeshEntryStore.Current"/>), so a broken entry is
    /// reported once per state, not on every read.
    /// </summary>
    private static MeshNode? TryBuild(Entry entry, ref List<(string NodeId, Exception Error)>? unreadable)
    {
        try
        {
            return entry.Store!.Current(entry.Key);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            (unreadable ??= []).Add((entry.NodeId, ex));
            return null;
        }
    }

    private sealed class Listening(MeshView view, IMeshViewListener listener) : IDisposable
    {
        public void Dispose()
        {
            lock (view.Gate)
            {
                view._listeners = [.. view._listeners.Where(l => l != listener)];
            }
        }
    }

    /// <summary>An entry: a node given as it is, or record <see cref="Key"/> of a store that builds it on demand.</summary>
    private readonly record struct Entry(MeshNode? Node, MeshEntryStore? Store, int Key)
    {
        public string NodeId => Node?.NodeId ?? Store!.NodeIdOf(Key);
    }
}

/// <summary>
/// Hears, under the view's gate, how the view changes node by node (<see cref="MeshView.Listen"/>):
/// each call must be quick and must not read the view.
/// </summary>
internal interface IMeshViewListener
{
    /// <summary>The entry of <paramref name="nodeId"/> was replaced or changed; it keeps its place in the view.</summary>
    void NodeChanged(string nodeId);

    /// <summary>A node joined or left, places moved, or entries changed without saying which: read the whole view again.</summary>
    void ViewReshaped();

    /// <summary><paramref name="nodeId"/> left the view (followed by <see cref="ViewReshaped"/>).</summary>
    void NodeRemoved(string nodeId);
}

/// <summary>
/// Entries of the view kept in another form (the gossip adapter keeps wire states), each under a
/// key of the store's choosing, and turned into a <see cref="MeshNode"/> only when the view is read
/// after they changed. Called under the view's gate.
/// </summary>
internal abstract class MeshEntryStore
{
    /// <summary>The node id of the entry kept under <paramref name="key"/>.</summary>
    /// <param name="key">The entry's key in this store.</param>
    /// <returns>The node id.</returns>
    public abstract string NodeIdOf(int key);

    /// <summary>
    /// The node of the entry under <paramref name="key"/> as of now; null when there is nothing to
    /// show yet. An entry whose build throws passes the exception to the caller once and reads as
    /// null until it changes again (it is not rebuilt on every read).
    /// </summary>
    /// <param name="key">The entry's key in this store.</param>
    /// <returns>The node, or null.</returns>
    public abstract MeshNode? Current(int key);

    /// <summary>
    /// The view no longer lists the entry under <paramref name="key"/>: the host wrote its own entry
    /// under the node's id or removed it (<see cref="IMeshViewWriter"/>; called under the view's
    /// gate). The store keeps what it needs of the node (gossip still relays it and tracks its
    /// liveness) but reports no more changes of it. Not called when the store removes its own entry.
    /// </summary>
    /// <param name="key">The entry's key in this store.</param>
    public virtual void Released(int key)
    {
    }
}

/// <summary>
/// One entry of the view kept in another form and turned into a <see cref="MeshNode"/> only when
/// the view is read after it changed (a store of one entry, its key unused).
/// </summary>
internal abstract class MeshEntrySource(string nodeId) : MeshEntryStore
{
    private MeshNode? _built;

    /// <summary>The node id.</summary>
    public string NodeId { get; } = nodeId;

    /// <summary>True when the entry changed since it was last built.</summary>
    public bool Changed { get; private set; } = true;

    /// <summary>Marks the entry changed (under the view's gate).</summary>
    public void MarkChanged() => Changed = true;

    /// <summary>
    /// The node as of now (under the view's gate); null when there is nothing to show yet. When
    /// <see cref="Build"/> throws, the exception goes to the caller once and the entry reads as null
    /// until it changes again (it is not rebuilt on every read).
    /// </summary>
    public MeshNode? Current()
    {
        if (Changed)
        {
            Changed = false;
            _built = null;
            _built = Build();
        }

        return _built;
    }

    /// <inheritdoc />
    public sealed override string NodeIdOf(int key) => NodeId;

    /// <inheritdoc />
    public sealed override MeshNode? Current(int key) => Current();

    /// <summary>Builds the node from the kept form.</summary>
    protected abstract MeshNode? Build();
}
