using System.Collections.Immutable;

namespace CostModel.Factors;

/// <summary>
/// What a node serves and what it can reach through relays. Changes rarely, so it is versioned
/// separately from <see cref="NodeCostFactors"/>.
/// </summary>
public sealed record NodeCapabilities
{
    /// <summary>Creates a capability set.</summary>
    /// <param name="nodeId">The node's identifier (as in <see cref="NodeCostFactors.NodeId"/>).</param>
    /// <param name="version">Increases whenever the set changes (not negative).</param>
    public NodeCapabilities(string nodeId, long version)
    {
        NodeId = nodeId;
        Version = version;
    }

    /// <summary>The most models one node advertises; bounds the gossip message.</summary>
    public const int MaxModels = 32;

    /// <summary>The most relay routes one node advertises; bounds the gossip message.</summary>
    public const int MaxRelays = 32;

    /// <summary>The node's identifier.</summary>
    public string NodeId { get; init => field = FactorGuard.Text(value, NodeCostFactors.MaxNodeIdLength, nameof(NodeId)); }

    /// <summary>Increases whenever the set changes.</summary>
    public long Version { get; init => field = FactorGuard.NonNegative(value, nameof(Version)); }

    /// <summary>Models this node serves itself.</summary>
    public ImmutableArray<ServedModel> Models { get; init => field = Bounded(value, MaxModels, nameof(Models)); } = [];

    /// <summary>Models this node can reach through other nodes.</summary>
    public ImmutableArray<RelayRoute> Relays { get; init => field = Bounded(value, MaxRelays, nameof(Relays)); } = [];

    private static ImmutableArray<TItem> Bounded<TItem>(ImmutableArray<TItem> value, int max, string name)
    {
        if (value.IsDefault)
        {
            return [];
        }

        if (value.Length > max)
        {
            throw new ArgumentOutOfRangeException(name, value.Length, $"{name} holds at most {max} entries.");
        }

        foreach (TItem item in value)
        {
            if (item is null)
            {
                throw new ArgumentException($"{name} must not contain null entries.", name);
            }
        }

        return value;
    }
}

/// <summary>A model a node serves.</summary>
public sealed record ServedModel
{
    /// <summary>Creates a served model entry.</summary>
    /// <param name="modelId">The model's identifier as requests name it (1 to <see cref="MaxModelIdLength"/> characters).</param>
    public ServedModel(string modelId) => ModelId = modelId;

    /// <summary>The longest model id, in characters.</summary>
    public const int MaxModelIdLength = 128;

    /// <summary>The model's identifier, as requests name it.</summary>
    public string ModelId { get; init => field = FactorGuard.Text(value, MaxModelIdLength, nameof(ModelId)); }

    /// <summary>Parameters in billions (7 for a 7B model), when known.</summary>
    public double? ParameterBillions { get; init => field = value is null ? null : FactorGuard.Range(value.Value, 0, 100_000, nameof(ParameterBillions)); }

    /// <summary>Bits per weight after quantisation (16 for fp16/bf16, 4.5 for q4_K_M), when known.</summary>
    public double? QuantizationBits { get; init => field = value is null ? null : FactorGuard.Range(value.Value, 1, 32, nameof(QuantizationBits)); }

    /// <summary>The longest context the node serves, in tokens.</summary>
    public int? ContextTokens { get; init => field = value is null ? null : FactorGuard.NonNegative(value.Value, nameof(ContextTokens)); }

    /// <summary>Prior prefill speed on this node, tokens per second, used until throughput is observed.</summary>
    public double? PrefillTokensPerSecond { get; init => field = value is null ? null : FactorGuard.Range(value.Value, 0, 10_000_000, nameof(PrefillTokensPerSecond)); }

    /// <summary>Prior decode speed on this node, tokens per second, used until throughput is observed.</summary>
    public double? DecodeTokensPerSecond { get; init => field = value is null ? null : FactorGuard.Range(value.Value, 0, 1_000_000, nameof(DecodeTokensPerSecond)); }

    /// <summary>Requests the node serves in parallel for this model (its slots).</summary>
    public int? ParallelSlots { get; init => field = value is null ? null : FactorGuard.NonNegative(value.Value, nameof(ParallelSlots)); }
}

/// <summary>A model a node can reach through another node.</summary>
public sealed record RelayRoute
{
    /// <summary>Creates a relay route.</summary>
    /// <param name="modelId">The model reached.</param>
    /// <param name="viaNodeId">The next node on the way.</param>
    /// <param name="hopCount">Hops to the serving node (1 = the next node serves it; at most <see cref="MaxHops"/>).</param>
    public RelayRoute(string modelId, string viaNodeId, int hopCount)
    {
        ModelId = modelId;
        ViaNodeId = viaNodeId;
        HopCount = hopCount;
    }

    /// <summary>The most hops a route may have; longer routes are not worth advertising.</summary>
    public const int MaxHops = 8;

    /// <summary>The model reached.</summary>
    public string ModelId { get; init => field = FactorGuard.Text(value, ServedModel.MaxModelIdLength, nameof(ModelId)); }

    /// <summary>The next node on the way.</summary>
    public string ViaNodeId { get; init => field = FactorGuard.Text(value, NodeCostFactors.MaxNodeIdLength, nameof(ViaNodeId)); }

    /// <summary>Hops to the serving node.</summary>
    public int HopCount { get; init => field = (int)FactorGuard.Range(value, 1, MaxHops, nameof(HopCount)); }
}
