namespace CostModel.Fuzz;

/// <summary>
/// Thrown when an input breaks one of the receive path's invariants. SharpFuzz reports any
/// exception that escapes the fuzzed action to AFL as a crash, and AFL saves the input.
/// </summary>
public sealed class InvariantViolationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvariantViolationException()
    {
    }

    /// <summary>Creates the exception with what was broken.</summary>
    /// <param name="message">Which invariant, and what was seen.</param>
    public InvariantViolationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with what was broken and the exception that broke it.</summary>
    /// <param name="message">Which invariant, and what was seen.</param>
    /// <param name="innerException">What was thrown.</param>
    public InvariantViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
