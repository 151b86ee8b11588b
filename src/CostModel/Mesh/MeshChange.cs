namespace CostModel.Mesh;

/// <summary>What happened to a node in the mesh view.</summary>
public enum MeshChangeKind
{
    /// <summary>A node not known before (or a restarted node: a new generation) appeared.</summary>
    Joined = 1,

    /// <summary>A known node published newer factors or capabilities.</summary>
    Updated = 2,

    /// <summary>The node missed heartbeats: it may be gone.</summary>
    Suspect = 3,

    /// <summary>The node is believed gone; it stays for a grace period, then is removed.</summary>
    Dead = 4,

    /// <summary>A suspect or dead node was heard from again (same generation).</summary>
    Recovered = 5,

    /// <summary>The node left the view.</summary>
    Removed = 6,
}

/// <summary>One change of the mesh view.</summary>
/// <param name="NodeId">The node.</param>
/// <param name="Kind">What happened.</param>
/// <param name="At">When this node noticed it (its own clock).</param>
public readonly record struct MeshChange(string NodeId, MeshChangeKind Kind, DateTimeOffset At)
{
    /// <inheritdoc />
    public override string ToString() => $"{At:O} {NodeId} {Kind}";
}
