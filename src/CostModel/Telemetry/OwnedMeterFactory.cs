using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace CostModel.Telemetry;

/// <summary>
/// Used only when the host registered no <see cref="IMeterFactory"/> (no <c>AddMetrics</c>). A
/// singleton of the container, which disposes it with itself: its meters, and their instruments,
/// are unpublished then.
/// </summary>
internal sealed class OwnedMeterFactory : IMeterFactory
{
    private readonly ConcurrentBag<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var meter = new Meter(options.Name, options.Version, options.Tags, this);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (Meter meter in _meters)
        {
            meter.Dispose();
        }
    }
}
