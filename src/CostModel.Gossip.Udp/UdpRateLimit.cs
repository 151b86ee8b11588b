namespace CostModel.Gossip.Udp;

/// <summary>
/// A token-bucket limit: up to <see cref="Burst"/> at once, refilled at <see cref="PerSecond"/>.
/// The unit is the limit's own: datagrams for what is received, bytes for what is sent.
/// </summary>
/// <param name="Burst">The most that may pass at once (the bucket's size); a full bucket to start with.</param>
/// <param name="PerSecond">The refill rate: what may pass per second in the long run.</param>
public readonly record struct UdpRateLimit(double Burst, double PerSecond)
{
    /// <summary>Throws when either figure is not a positive finite number.</summary>
    internal void Validate(string name)
    {
        if (!double.IsFinite(Burst) || Burst <= 0 || !double.IsFinite(PerSecond) || PerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(name, this, "A rate limit needs a positive, finite Burst and PerSecond.");
        }
    }
}
