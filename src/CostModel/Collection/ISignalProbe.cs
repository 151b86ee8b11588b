namespace CostModel.Collection;

/// <summary>
/// Reads one group of signals from the operating system (power, CPU, GPU...) into a snapshot.
/// Platform packages implement one probe per signal group; a host can add probes or replace one
/// by registering another with the same <see cref="Name"/>.
/// </summary>
/// <remarks>
/// A probe reads files and calls OS APIs; it never starts a process on the collection path. It
/// should turn every failure into readings that are Unknown with a reason. If it throws anyway,
/// the collector marks its group Unknown, logs at Debug and counts the failure: a probe can
/// never end a collection or the snapshot stream. Probes are called from one thread at a time.
/// </remarks>
public interface ISignalProbe
{
    /// <summary>A stable name ("linux.power"); a later registration with the same name replaces an earlier one.</summary>
    string Name { get; }

    /// <summary>The group this probe fills. Groups are collected in the order of <see cref="SignalGroup"/>.</summary>
    SignalGroup Group { get; }

    /// <summary>Reads the signals and stores them in <paramref name="snapshot"/>.</summary>
    /// <param name="snapshot">The snapshot being built; earlier groups are already filled.</param>
    void Collect(SnapshotBuilder snapshot);
}

/// <summary>
/// Signal groups, in collection order: container limits come first because CPU utilisation is
/// normalised by the cores the container may use; power comes first and is read again last
/// (see <see cref="SignalGroup.Power"/>).
/// </summary>
public enum SignalGroup
{
    /// <summary>Power source and battery. Read at the start of a pass and again at its end: a pass during which the source changed is redone.</summary>
    Power = 0,

    /// <summary>Container (cgroup, job object) limits.</summary>
    Container = 1,

    /// <summary>CPU, load and memory.</summary>
    Compute = 2,

    /// <summary>GPUs.</summary>
    Gpu = 3,

    /// <summary>Temperatures and throttling.</summary>
    Thermal = 4,

    /// <summary>Network link, throughput and metering.</summary>
    Network = 5,

    /// <summary>Work the host application reports as queued or running.</summary>
    Pending = 6,
}
