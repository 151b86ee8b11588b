using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>Chooses where a request runs and explains why.</summary>
public interface IRouter
{
    /// <summary>Routes one request. Thread-safe.</summary>
    /// <param name="request">What the request needs.</param>
    /// <returns>The decision; complete or dispose its <see cref="RouteDecision.Lease"/> when the request ends.</returns>
    RouteDecision Route(RequestProfile request);
}

/// <summary>The outcome of a routed request, reported through its lease.</summary>
/// <param name="Succeeded">True when the target served the request.</param>
/// <param name="LatencySeconds">Time from sending to the last token, in seconds.</param>
/// <param name="OutputTokens">Tokens generated.</param>
public readonly record struct RouteOutcome(bool Succeeded, double LatencySeconds, int OutputTokens);

/// <summary>
/// Work placed on a target: counted as pending until completed, disposed or expired, so pending
/// counts can neither stick nor go negative.
/// </summary>
public interface IRouteLease : IDisposable
{
    /// <summary>Reports the outcome and releases the pending work. Later calls are ignored.</summary>
    /// <param name="outcome">What happened.</param>
    void Complete(RouteOutcome outcome);
}

/// <summary>A routing decision: where, at what cost, and why.</summary>
public sealed record RouteDecision
{
    /// <summary>The chosen node or endpoint id.</summary>
    public required string TargetId { get; init; }

    /// <summary>The chosen target's cost.</summary>
    public required CostBreakdown Cost { get; init; }

    /// <summary>The placed work; complete it with the outcome.</summary>
    public required IRouteLease Lease { get; init; }

    /// <summary>A readable explanation: each candidate's terms, what was filtered and why, whether stickiness held.</summary>
    public required string Explanation { get; init; }

    /// <summary>The explanation.</summary>
    public override string ToString() => Explanation;
}
