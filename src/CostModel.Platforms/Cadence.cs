namespace CostModel.Platforms;

/// <summary>
/// When a slowly changing signal is read again. A probe keeps the readings it built from the last
/// good read and reuses them, with their original observation time, until <see cref="Interval"/>
/// has passed; a failed read is retried on the next pass, and <see cref="Expire"/> forces a read
/// (a rediscovery, a related failure). Fast signals (CPU, load, PSI, counters) do not use this:
/// they are read every pass.
/// </summary>
/// <remarks>
/// Reading /proc and cgroup files costs kernel time on every read (the content is generated for
/// each read at offset 0: /proc/meminfo about 7 us, a v1 memory.stat about 13 us on this
/// repository's VM), so re-reading values that change over seconds or minutes every pass is
/// most of a snapshot's cost. Not thread-safe: the collector calls probes one at a time.
/// </remarks>
internal sealed class Cadence
{
    /// <summary>
    /// 30 s for limits (CPU quota and period, memory limit, cpuset): they change only when an
    /// operator or orchestrator changes them (<c>docker update</c>, a pod resize), which is as rare
    /// as a process moving to another cgroup, so they follow the cgroup rediscovery interval
    /// (<see cref="Linux.Cgroups.CgroupReader.RediscoverInterval"/>).
    /// </summary>
    public static readonly TimeSpan LimitsInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// 5 s for memory figures (MemTotal and MemAvailable of /proc/meminfo, the cgroup working set
    /// from memory.current and memory.stat): memory is allocated and freed over seconds and the
    /// scorer does not weigh it per request; 5 s is a third of the 15 s the scorer allows for the
    /// compute group (<c>ScoringDefaults.ComputeMaxAge</c>).
    /// </summary>
    public static readonly TimeSpan MemoryInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// 5 s for the default route (/proc/net/route, and /proc/net/ipv6_route when IPv4 has none): a
    /// route changes when a link comes or goes (DHCP, a VPN, Wi-Fi roaming), and a default
    /// interface that disappears from /proc/net/dev brings the next read forward.
    /// </summary>
    public static readonly TimeSpan RouteInterval = TimeSpan.FromSeconds(5);

    private long _readAt;
    private bool _current;

    /// <summary>Creates a cadence; the first <see cref="IsDue"/> is true.</summary>
    /// <param name="interval">How long a good read stands.</param>
    public Cadence(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Interval = interval;
    }

    /// <summary>How long a good read stands.</summary>
    public TimeSpan Interval { get; }

    /// <summary>True when the signal must be read on this pass: never read, expired, the last read failed, or <see cref="Interval"/> has passed since the last good read.</summary>
    /// <param name="time">The snapshot's clock.</param>
    /// <param name="timestamp">This pass's <see cref="TimeProvider.GetTimestamp"/>.</param>
    public bool IsDue(TimeProvider time, long timestamp) => !_current || time.GetElapsedTime(_readAt, timestamp) >= Interval;

    /// <summary>Records a read made on this pass: a good one stands for <see cref="Interval"/>, a failed one is retried on the next pass.</summary>
    /// <param name="timestamp">This pass's <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <param name="succeeded">Whether the read gave a value (or a lasting NotSupported) rather than a failure.</param>
    public void Completed(long timestamp, bool succeeded)
    {
        _readAt = timestamp;
        _current = succeeded;
    }

    /// <summary>Makes the next pass read again.</summary>
    public void Expire() => _current = false;
}
