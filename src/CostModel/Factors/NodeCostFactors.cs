namespace CostModel.Factors;

/// <summary>
/// One immutable snapshot of what running work on a node costs right now: power, compute,
/// GPUs, heat, network, container limits, the node's own pending work and recent trends.
/// </summary>
/// <remarks>
/// Every value is a <see cref="Reading{T}"/> with its own observation time and quality; a group
/// nobody measured is Unknown, never 0. Snapshots are ordered by (<see cref="Generation"/>,
/// <see cref="Version"/>). Setting a group to null stands for "nothing known": every reading
/// of an empty group is Unknown ("not collected").
/// </remarks>
public sealed record NodeCostFactors
{
    /// <summary>Creates a snapshot for a node.</summary>
    /// <param name="nodeId">The node's identifier: 1 to <see cref="MaxNodeIdLength"/> characters, no control characters.</param>
    /// <param name="generation">Changes whenever the node restarts (not negative).</param>
    /// <param name="version">Increases with every snapshot within a generation (not negative).</param>
    /// <param name="capturedAt">When the snapshot was completed, on the producer's clock.</param>
    public NodeCostFactors(string nodeId, long generation, long version, DateTimeOffset capturedAt)
    {
        NodeId = nodeId;
        Generation = generation;
        Version = version;
        CapturedAt = capturedAt;
    }

    /// <summary>The largest node id, in characters; it also bounds the id on the gossip wire.</summary>
    public const int MaxNodeIdLength = 64;

    /// <summary>The node's identifier.</summary>
    public string NodeId { get; init => field = FactorGuard.Text(value, MaxNodeIdLength, nameof(NodeId)); }

    /// <summary>Changes when the node restarts; a newer generation supersedes any version of an older one.</summary>
    public long Generation { get; init => field = FactorGuard.NonNegative(value, nameof(Generation)); }

    /// <summary>Increases with every snapshot within a generation.</summary>
    public long Version { get; init => field = FactorGuard.NonNegative(value, nameof(Version)); }

    /// <summary>When the snapshot was completed.</summary>
    public DateTimeOffset CapturedAt { get; init; }

    /// <summary>Power source and battery.</summary>
    public PowerFactors Power { get; init => field = value ?? EmptyGroups.Power; } = EmptyGroups.Power;

    /// <summary>CPU and memory.</summary>
    public ComputeFactors Compute { get; init => field = value ?? EmptyGroups.Compute; } = EmptyGroups.Compute;

    /// <summary>GPUs.</summary>
    public GpuFactors Gpu { get; init => field = value ?? EmptyGroups.Gpu; } = EmptyGroups.Gpu;

    /// <summary>Heat and throttling.</summary>
    public ThermalFactors Thermal { get; init => field = value ?? EmptyGroups.Thermal; } = EmptyGroups.Thermal;

    /// <summary>Network link.</summary>
    public NetworkFactors Network { get; init => field = value ?? EmptyGroups.Network; } = EmptyGroups.Network;

    /// <summary>Container limits.</summary>
    public ContainerFactors Container { get; init => field = value ?? EmptyGroups.Container; } = EmptyGroups.Container;

    /// <summary>Queued and running work the node reports.</summary>
    public PendingWork Pending { get; init => field = value ?? EmptyGroups.Pending; } = EmptyGroups.Pending;

    /// <summary>Battery and load trends.</summary>
    public TrendFactors Trends { get; init => field = value ?? EmptyGroups.Trends; } = EmptyGroups.Trends;
}

/// <summary>
/// Shared empty groups (every reading Unknown, "not collected"). Records are immutable, so one
/// instance serves every snapshot: constructing a snapshot allocates no throw-away groups.
/// </summary>
internal static class EmptyGroups
{
    public static readonly PowerFactors Power = new();
    public static readonly ComputeFactors Compute = new();
    public static readonly GpuFactors Gpu = new();
    public static readonly ThermalFactors Thermal = new();
    public static readonly NetworkFactors Network = new();
    public static readonly ContainerFactors Container = new();
    public static readonly PendingWork Pending = new();
    public static readonly TrendFactors Trends = new();
}
