using CostModel.Factors;

namespace CostModel.Collection;

/// <summary>
/// The snapshot being built during one collection pass. Probes replace the group they own;
/// later probes can read groups filled before them (compute reads container limits).
/// </summary>
public sealed class SnapshotBuilder
{
    /// <summary>Creates an empty builder on a clock.</summary>
    /// <param name="timeProvider">The clock every reading of this pass is stamped with.</param>
    public SnapshotBuilder(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        TimeProvider = timeProvider;
    }

    /// <summary>The clock to stamp readings with (<c>TimeProvider.GetUtcNow()</c>).</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Power source and battery.</summary>
    public PowerFactors Power { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = EmptyGroups.Power;

    /// <summary>Container limits.</summary>
    public ContainerFactors Container { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = EmptyGroups.Container;

    /// <summary>CPU, load and memory.</summary>
    public ComputeFactors Compute { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = EmptyGroups.Compute;

    /// <summary>GPUs.</summary>
    public GpuFactors Gpu { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = EmptyGroups.Gpu;

    /// <summary>Heat and throttling.</summary>
    public ThermalFactors Thermal { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = EmptyGroups.Thermal;

    /// <summary>Network link.</summary>
    public NetworkFactors Network { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = EmptyGroups.Network;

    /// <summary>Queued and running work.</summary>
    public PendingWork Pending { get; set => field = value ?? throw new ArgumentNullException(nameof(value)); } = EmptyGroups.Pending;

    internal void CopyFrom(SnapshotBuilder other)
    {
        Power = other.Power;
        Container = other.Container;
        Compute = other.Compute;
        Gpu = other.Gpu;
        Thermal = other.Thermal;
        Network = other.Network;
        Pending = other.Pending;
    }

    internal void Reset()
    {
        Power = EmptyGroups.Power;
        Container = EmptyGroups.Container;
        Compute = EmptyGroups.Compute;
        Gpu = EmptyGroups.Gpu;
        Thermal = EmptyGroups.Thermal;
        Network = EmptyGroups.Network;
        Pending = EmptyGroups.Pending;
    }
}
