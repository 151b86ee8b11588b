using System.Diagnostics.Metrics;
using CostModel.Telemetry;

namespace CostModel.Fuzz;

/// <summary>
/// Listens for what the collector's last-resort catch counts: a probe's escaped exception is
/// counted under <c>costmodel.collector.probe_failures</c> with the exception's type name as the
/// reason, while the probes' own failures use short kinds ("missing", "garbage", "out-of-range"),
/// never a type name. Shared by the machine targets (<see cref="LinuxMachineTarget"/>,
/// <see cref="MacMachineTarget"/>): a probe must turn any answer into a reading or an Unknown
/// with its reason, never an exception.
/// </summary>
internal sealed class ProbeExceptions : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<string> _seen = [];

    /// <summary>Starts listening on <paramref name="metrics"/>' meter.</summary>
    /// <param name="metrics">The collector's metrics (from the target's service provider).</param>
    public ProbeExceptions(CostModelMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Meter meter = metrics.Meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "costmodel.collector.probe_failures")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnProbeFailure);
        _listener.Start();
    }

    /// <summary>The escaped exceptions counted since the last <see cref="Clear"/>, as probe: type.</summary>
    public IReadOnlyList<string> Seen => _seen;

    /// <summary>Forgets what was counted (before a collection).</summary>
    public void Clear() => _seen.Clear();

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void OnProbeFailure(Instrument instrument, long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? probe = null;
        string? reason = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "probe")
            {
                probe = tag.Value as string;
            }
            else if (tag.Key == "reason")
            {
                reason = tag.Value as string;
            }
        }

        if (reason is not null && reason.EndsWith("Exception", StringComparison.Ordinal))
        {
            _seen.Add($"{probe}: {reason}");
        }
    }
}
