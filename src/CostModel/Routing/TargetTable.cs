using System.Collections.Concurrent;

namespace CostModel.Routing;

/// <summary>
/// The router's memory of its targets: one <see cref="TargetState"/> per listed target (nodes of
/// the current view, configured endpoints), kept only while the target is listed. A forgotten
/// state is marked (its leases still complete and release, but nothing more is learned) and a
/// target of the same id that comes back gets a new state. Bounded by the view's own bound (see
/// <see cref="MaxTargetStates"/>).
/// </summary>
internal sealed class TargetTable
{
    /// <summary>
    /// 1,048,576 targets remembered at most: the table holds the nodes of the current view and
    /// the configured endpoints, so the view's own cap bounds it (<see cref="Mesh.MeshView.MaxNodes"/>, 4,096
    /// by default; <c>Gossip:MaxNodes</c> is at most 1,000,000). This ceiling is for a host's own
    /// <see cref="Mesh.IMeshView"/> that lists more: its further nodes are routed with a state kept only for
    /// that view (what they learn is lost when the view changes), counted as the bound <c>target-states</c>.
    /// </summary>
    internal const int MaxTargetStates = 1 << 20;

    private readonly ConcurrentDictionary<string, TargetState> _states = new(StringComparer.Ordinal);

    /// <summary>The targets remembered.</summary>
    public int Count => _states.Count;

    /// <summary>Every remembered state (a moment's view of the table).</summary>
    public ICollection<TargetState> All => _states.Values;

    /// <summary>True when the target's state is remembered.</summary>
    public bool Remembers(string targetId) => _states.ContainsKey(targetId);

    /// <summary>The remembered state of a target, if any.</summary>
    public bool TryGet(string targetId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TargetState? state) => _states.TryGetValue(targetId, out state);

    /// <summary>The state of the node at place <paramref name="index"/> of a view being indexed; beyond <see cref="MaxTargetStates"/>, one kept only by that view.</summary>
    public TargetState ForNode(string nodeId, int index) =>
        index < MaxTargetStates ? _states.GetOrAdd(nodeId, static id => new TargetState(id)) : new TargetState(nodeId);

    /// <summary>The state of a configured endpoint (shared with a node of the same id).</summary>
    public TargetState ForEndpoint(string endpointId) => _states.GetOrAdd(endpointId, static id => new TargetState(id));

    /// <summary>Forgets the state of <paramref name="targetId"/>, if remembered.</summary>
    public void Forget(string targetId)
    {
        if (_states.TryRemove(targetId, out TargetState? state))
        {
            state.Forget();
        }
    }

    /// <summary>
    /// Forgets <paramref name="state"/>: out of the table if it is still there (a target that comes back
    /// gets a new state), and marked, so its leases learn nothing and affinity entries on it are purged.
    /// </summary>
    public void Forget(TargetState state)
    {
        _states.TryRemove(new KeyValuePair<string, TargetState>(state.TargetId, state));
        state.Forget();
    }

    /// <summary>The targets ejected at <paramref name="stamp"/>: O(targets), called only when an ejection is due.</summary>
    public int CountEjected(long stamp)
    {
        int ejected = 0;
        foreach (TargetState state in _states.Values)
        {
            if (state.IsEjected(stamp))
            {
                ejected++;
            }
        }

        return ejected;
    }
}
