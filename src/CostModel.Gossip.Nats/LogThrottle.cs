namespace CostModel.Gossip.Nats;

/// <summary>
/// Decides how one kind of trouble is logged: its first occurrence at Warning with its reason, later
/// ones at Debug, at most one line a second, each saying how many went unlogged before it. Every
/// occurrence is counted on the meter either way. Thread-safe.
/// </summary>
internal sealed class LogThrottle(TimeProvider time)
{
    /// <summary>One line a second at most after the first: a flood writes a line a second, with counts.</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private bool _first = true;
    private long _nextAt;
    private long _unlogged;

    /// <summary>Call once per occurrence: whether to log it, whether it is the first, and how many went unlogged before it.</summary>
    public bool ShouldLog(out bool first, out long unloggedBefore)
    {
        lock (_gate)
        {
            long now = time.GetTimestamp();
            first = _first;
            if (_first || now >= _nextAt)
            {
                _first = false;
                _nextAt = now + (long)(Interval.TotalSeconds * time.TimestampFrequency);
                unloggedBefore = _unlogged;
                _unlogged = 0;
                return true;
            }

            _unlogged++;
            unloggedBefore = 0;
            return false;
        }
    }
}
