namespace CostModel.Gossip.Udp;

/// <summary>
/// Decides whether a Debug line about one kind of drop is written: the first <see cref="Burst"/>
/// at once, then at most <see cref="PerSecond"/> a second, each saying how many drops went
/// unlogged since the line before. A flood is counted in full, never logged line by line. Thread-safe.
/// </summary>
internal sealed class LogThrottle
{
    /// <summary>10 lines at once: enough to see who sends what when trouble starts.</summary>
    internal const int Burst = 10;

    /// <summary>One line a second per kind afterwards: a flood of any size writes a few lines a minute, with counts.</summary>
    internal const double PerSecond = 1;

    private readonly TokenBucket _lines;
    private long _unlogged;

    public LogThrottle(TimeProvider time) => _lines = new TokenBucket(new UdpRateLimit(Burst, PerSecond), time);

    /// <summary>Call once per drop: true when this one is logged, with how many were not since the last line.</summary>
    public bool ShouldLog(out long unloggedBefore)
    {
        if (_lines.TryTake(1))
        {
            unloggedBefore = Interlocked.Exchange(ref _unlogged, 0);
            return true;
        }

        Interlocked.Increment(ref _unlogged);
        unloggedBefore = 0;
        return false;
    }
}
