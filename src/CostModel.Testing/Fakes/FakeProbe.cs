using CostModel.Collection;

namespace CostModel.Testing.Fakes;

/// <summary>
/// A probe whose behaviour a test sets: it runs <see cref="OnCollect"/> against the snapshot, so
/// a test can fill a group with chosen readings, throw, or change its answer between calls.
/// </summary>
public sealed class FakeProbe : ISignalProbe
{
    /// <summary>Creates a fake probe.</summary>
    /// <param name="name">The probe's name.</param>
    /// <param name="group">The group it fills.</param>
    /// <param name="onCollect">What a collection does.</param>
    public FakeProbe(string name, SignalGroup group, Action<SnapshotBuilder> onCollect)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(onCollect);
        Name = name;
        Group = group;
        OnCollect = onCollect;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public SignalGroup Group { get; }

    /// <summary>What a collection does; replace it to change the probe's answer.</summary>
    public Action<SnapshotBuilder> OnCollect { get; set; }

    /// <summary>How many times the collector called this probe.</summary>
    public int Calls { get; private set; }

    /// <inheritdoc />
    public void Collect(SnapshotBuilder snapshot)
    {
        Calls++;
        OnCollect(snapshot);
    }
}
