using System.Diagnostics.Metrics;

namespace CostModel.Telemetry;

/// <summary>
/// The library's instruments, on one <see cref="Meter"/> named <see cref="MeterName"/> created
/// through <see cref="IMeterFactory"/>. Names follow OpenTelemetry conventions.
/// </summary>
public sealed class CostModelMetrics
{
    /// <summary>The meter's name; listen to it with OpenTelemetry or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "CostModel";

    private readonly Counter<long> _snapshots;
    private readonly Counter<long> _probeFailures;
    private readonly Counter<long> _passRetries;
    private readonly Counter<long> _boundsExceeded;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public CostModelMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _snapshots = Meter.CreateCounter<long>("costmodel.collector.snapshots", "{snapshot}", "Snapshots collected.");
        _probeFailures = Meter.CreateCounter<long>("costmodel.collector.probe_failures", "{failure}", "Probe reads that failed, by probe and reason.");
        _boundsExceeded = Meter.CreateCounter<long>("costmodel.bounds_exceeded", "{event}", "Inputs refused because a size bound was reached, by bound.");
        _passRetries = Meter.CreateCounter<long>("costmodel.collector.pass_retries", "{pass}", "Collection passes redone because the power source changed during the pass.");
    }

    /// <summary>The meter every instrument lives on.</summary>
    public Meter Meter { get; }

    internal void SnapshotCollected() => _snapshots.Add(1);

    internal void ProbeFailed(string probe, string reason) =>
        _probeFailures.Add(1, new KeyValuePair<string, object?>("probe", probe), new KeyValuePair<string, object?>("reason", reason));

    internal void PassRetried() => _passRetries.Add(1);

    internal void BoundExceeded(string bound) => _boundsExceeded.Add(1, new KeyValuePair<string, object?>("bound", bound));
}
