namespace CostModel.Platforms;

/// <summary>
/// When a probe enumerates its devices again (supplies, sensors, interfaces, cgroups). The probe
/// discovers once at construction; the first pass only starts the interval; later passes are due
/// after <see cref="Cadence.Interval"/> or on the pass after <see cref="Request"/> (a file went
/// missing). Not thread-safe: the collector calls probes one at a time.
/// </summary>
internal sealed class Rediscovery(TimeSpan interval)
{
    /// <summary>
    /// 30 s: devices come and go with docks, USB-C partners, late-loading drivers, hot-plugged
    /// CPUs and moved processes; 30 s matches the shortest stale threshold for power state in the
    /// design while keeping directory enumeration off almost every pass.
    /// </summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    private readonly Cadence _cadence = new(interval);
    private bool _started;

    /// <summary>Makes the next pass rediscover.</summary>
    public void Request() => _cadence.Expire();

    /// <summary>True when this pass must enumerate again; the interval restarts from this pass.</summary>
    /// <param name="time">The snapshot's clock.</param>
    /// <param name="timestamp">This pass's <see cref="TimeProvider.GetTimestamp"/>.</param>
    public bool IsDue(TimeProvider time, long timestamp)
    {
        bool due = _started && _cadence.IsDue(time, timestamp);
        if (!_started || due)
        {
            _started = true;
            _cadence.Completed(timestamp, succeeded: true);
        }

        return due;
    }
}
