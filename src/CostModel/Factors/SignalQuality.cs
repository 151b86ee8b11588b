namespace CostModel.Factors;

/// <summary>How trustworthy a <see cref="Reading{T}"/> is, and whether it holds a value at all.</summary>
/// <remarks>
/// The zero value is <see cref="Unknown"/> on purpose: a reading nobody filled in is unknown,
/// never a silent 0. Values are append-only (they travel on the gossip wire).
/// </remarks>
public enum SignalQuality : byte
{
    /// <summary>No value: the source could not be read or is too old. <see cref="Reading{T}.Reason"/> says why.</summary>
    Unknown = 0,

    /// <summary>No value: this platform or machine cannot measure it (a desktop has no battery). <see cref="Reading{T}.Reason"/> says why.</summary>
    NotSupported = 1,

    /// <summary>Read directly from the operating system or hardware.</summary>
    Measured = 2,

    /// <summary>Derived from measurements (a trend, a rate from two counters, a prior blended with samples).</summary>
    Estimated = 3,

    /// <summary>Set by the operator in configuration; wins over measurement.</summary>
    Overridden = 4,
}
