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
    public PowerFactors Power { get; init => field = value ?? new(); } = new();

    /// <summary>CPU and memory.</summary>
    public ComputeFactors Compute { get; init => field = value ?? new(); } = new();

    /// <summary>GPUs.</summary>
    public GpuFactors Gpu { get; init => field = value ?? new(); } = new();

    /// <summary>Heat and throttling.</summary>
    public ThermalFactors Thermal { get; init => field = value ?? new(); } = new();

    /// <summary>Network link.</summary>
    public NetworkFactors Network { get; init => field = value ?? new(); } = new();

    /// <summary>Container limits.</summary>
    public ContainerFactors Container { get; init => field = value ?? new(); } = new();

    /// <summary>Queued and running work the node reports.</summary>
    public PendingWork Pending { get; init => field = value ?? new(); } = new();

    /// <summary>Battery and load trends.</summary>
    public TrendFactors Trends { get; init => field = value ?? new(); } = new();
}
