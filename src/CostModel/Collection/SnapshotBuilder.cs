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

    /// <summary>
    /// Marks a whole group Unknown with one reason, stamped now: what a probe that cannot measure
    /// at all this pass reports (the collector does the same for a probe that throws).
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="reason">Why nothing of it could be measured.</param>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is empty.</exception>
    public void SetUnknown(SignalGroup group, string reason) => SetUnknown(group, reason, TimeProvider.GetUtcNow());

    internal void SetUnknown(SignalGroup group, string reason, DateTimeOffset? at)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        switch (group)
        {
            case SignalGroup.Power: Power = UnknownGroups.Power(reason, at); break;
            case SignalGroup.Container: Container = UnknownGroups.Container(reason, at); break;
            case SignalGroup.Compute: Compute = UnknownGroups.Compute(reason, at); break;
            case SignalGroup.Gpu: Gpu = UnknownGroups.Gpu(reason, at); break;
            case SignalGroup.Thermal: Thermal = UnknownGroups.Thermal(reason, at); break;
            case SignalGroup.Network: Network = UnknownGroups.Network(reason, at); break;
            case SignalGroup.Pending: Pending = UnknownGroups.Pending(reason, at); break;
            default: break;
        }
    }

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
