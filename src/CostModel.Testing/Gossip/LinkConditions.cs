namespace CostModel.Testing.Gossip;

/// <summary>
/// What a simulated link does to the messages sent over it: loss, delay with jitter, duplication
/// and a maximum payload size. Immutable; the default is a perfect link with a 1,400-byte MTU.
/// </summary>
/// <remarks>
/// Reordering comes from jitter: each copy of a message draws its own delay in
/// [<see cref="Delay"/>, <see cref="Delay"/> + <see cref="Jitter"/>), so a later send can arrive
/// before an earlier one whenever the jitter exceeds the time between the two sends.
/// </remarks>
public sealed record LinkConditions
{
    /// <summary>The default MTU in bytes: memberlist's UDP buffer size (1,400), the same default as the UDP transport.</summary>
    public const int DefaultMtu = 1400;

    /// <summary>A link that loses, delays and duplicates nothing, with the <see cref="DefaultMtu"/>.</summary>
    public static LinkConditions Perfect { get; } = new();

    /// <summary>The chance, in [0, 1], that a message is lost.</summary>
    public double LossProbability { get; init; }

    /// <summary>The fixed part of each message's delay (zero or more).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>The random part of each message's delay: uniform in [0, <see cref="Jitter"/>) (zero or more).</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>The chance, in [0, 1], that a message that was not lost arrives twice (each copy with its own delay).</summary>
    public double DuplicationProbability { get; init; }

    /// <summary>The largest payload in bytes the link carries; larger ones are dropped and counted, like UDP over IP without fragmentation.</summary>
    public int Mtu { get; init; } = DefaultMtu;

    /// <summary>Throws when a value is out of range.</summary>
    internal void Validate()
    {
        if (LossProbability is not (>= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LossProbability), LossProbability, "Must be in [0, 1].");
        }

        if (DuplicationProbability is not (>= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(DuplicationProbability), DuplicationProbability, "Must be in [0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Delay, TimeSpan.Zero, nameof(Delay));
        ArgumentOutOfRangeException.ThrowIfLessThan(Jitter, TimeSpan.Zero, nameof(Jitter));
        ArgumentOutOfRangeException.ThrowIfLessThan(Mtu, 1, nameof(Mtu));
    }
}
