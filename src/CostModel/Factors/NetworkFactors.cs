namespace CostModel.Factors;

/// <summary>The node's network link: which interface, whether it is metered, how fast.</summary>
public sealed record NetworkFactors
{
    /// <summary>The interface of the default route, or null when unknown (at most 64 characters; an unpaired surrogate in it is kept as U+FFFD).</summary>
    public string? DefaultInterface { get; init => field = value is null ? null : FactorGuard.Label(value, MaxInterfaceNameLength, nameof(DefaultInterface)); }

    /// <summary>
    /// True when traffic costs money or quota (a phone tether, a capped plan). The reading's
    /// quality and source say where it came from (NetworkManager, the OS cost API, the operator).
    /// Never guessed from interface or network names.
    /// </summary>
    public Reading<bool> Metered { get; init; }

    /// <summary>Bytes per second received on the default interface over the last interval.</summary>
    public Reading<double> ReceiveBytesPerSecond { get; init => field = FactorGuard.NonNegative(value, nameof(ReceiveBytesPerSecond)); }

    /// <summary>Bytes per second sent on the default interface over the last interval.</summary>
    public Reading<double> TransmitBytesPerSecond { get; init => field = FactorGuard.NonNegative(value, nameof(TransmitBytesPerSecond)); }

    /// <summary>Estimated available bandwidth in bits per second (observed transfers blended with a prior).</summary>
    public Reading<double> BandwidthBitsPerSecond { get; init => field = FactorGuard.NonNegative(value, nameof(BandwidthBitsPerSecond)); }

    /// <summary>How many observed transfers the bandwidth estimate rests on (0: the prior alone).</summary>
    public int BandwidthSampleCount { get; init => field = FactorGuard.NonNegative(value, nameof(BandwidthSampleCount)); }

    /// <summary>64 characters: the longest interface name kept (Linux IFNAMSIZ is 16; Windows aliases reach 256 and are truncated for display).</summary>
    public const int MaxInterfaceNameLength = 64;
}
