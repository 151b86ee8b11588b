namespace CostModel.Gossip;

/// <summary>
/// A token bucket: up to <c>burst</c> tokens, refilled at <c>ratePerSecond</c>; an action
/// costing n tokens happens only when n are there. Time is the injected clock's timestamp. Not
/// thread-safe: the adapter uses it under its gate.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _ratePerTick;
    private readonly double _burst;
    private double _tokens;
    private long _lastTimestamp;

    /// <summary>Creates a full bucket.</summary>
    /// <param name="ratePerSecond">Tokens added per second (above 0).</param>
    /// <param name="burst">The most tokens held (at least 1).</param>
    /// <param name="timestampFrequency">Timestamp ticks per second (<see cref="TimeProvider.TimestampFrequency"/>).</param>
    /// <param name="now">The timestamp to start from.</param>
    public TokenBucket(double ratePerSecond, double burst, long timestampFrequency, long now)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _ratePerTick = ratePerSecond / timestampFrequency;
        _burst = burst;
        _tokens = burst;
        _lastTimestamp = now;
    }

    /// <summary>Takes <paramref name="cost"/> tokens if there are that many; false (and nothing taken) otherwise.</summary>
    public bool TryTake(double cost, long now)
    {
        Refill(now);
        if (_tokens < cost)
        {
            return false;
        }

        _tokens -= cost;
        return true;
    }

    /// <summary>The tokens there are now (whole and partial).</summary>
    public double Available(long now)
    {
        Refill(now);
        return _tokens;
    }

    private void Refill(long now)
    {
        if (now > _lastTimestamp)
        {
            _tokens = Math.Min(_burst, _tokens + ((now - _lastTimestamp) * _ratePerTick));
            _lastTimestamp = now;
        }
    }
}
