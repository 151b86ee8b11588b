namespace CostModel.Gossip.Udp;

/// <summary>
/// A token bucket on a <see cref="TimeProvider"/>'s clock: starts full at <see cref="UdpRateLimit.Burst"/>
/// tokens and refills at <see cref="UdpRateLimit.PerSecond"/>. The one limiter every budget of the
/// transport uses. Thread-safe.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly double _burst;
    private readonly double _perTick;
    private double _tokens;
    private long _refilledAt;

    public TokenBucket(UdpRateLimit limit, TimeProvider time)
    {
        _time = time;
        _burst = limit.Burst;
        _perTick = limit.PerSecond / time.TimestampFrequency;
        _tokens = limit.Burst;
        _refilledAt = time.GetTimestamp();
    }

    /// <summary>Takes <paramref name="amount"/> tokens when that many are there; takes none otherwise.</summary>
    /// <returns>Whether they were taken.</returns>
    public bool TryTake(double amount)
    {
        lock (_gate)
        {
            Refill();
            if (_tokens < amount)
            {
                return false;
            }

            _tokens -= amount;
            return true;
        }
    }

    /// <summary>Gives back tokens taken for something that did not happen after all (never above the burst).</summary>
    public void Return(double amount)
    {
        lock (_gate)
        {
            _tokens = Math.Min(_burst, _tokens + amount);
        }
    }

    /// <summary>Whether the bucket has refilled to its burst: it then behaves exactly as a new one.</summary>
    public bool IsFull()
    {
        lock (_gate)
        {
            Refill();
            return _tokens >= _burst;
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        if (now > _refilledAt)
        {
            _tokens = Math.Min(_burst, _tokens + ((now - _refilledAt) * _perTick));
            _refilledAt = now;
        }
    }
}
