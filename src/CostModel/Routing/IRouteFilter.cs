using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// One step of the routing pipeline that can rule a candidate out. Registered in DI and named in
/// <see cref="RoutingOptions.Filters"/>; an unknown name fails validation at start.
/// </summary>
public interface IRouteFilter
{
    /// <summary>The name configuration uses (<see cref="RouteFilterNames"/> for the built-in ones).</summary>
    string Name { get; }

    /// <summary>True when the filter reads <see cref="RouteCandidate.Cost"/> (it then runs after scoring).</summary>
    bool NeedsCost { get; }

    /// <summary>Decides whether the candidate may take the request. Must not allocate (return constant reasons).</summary>
    /// <param name="candidate">The candidate.</param>
    /// <param name="request">The request.</param>
    /// <param name="now">The current time.</param>
    RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now);
}

/// <summary>A filter's verdict.</summary>
/// <param name="Passed">True when the candidate may take the request.</param>
/// <param name="Soft">For a rejection: true when panic mode may ignore it (ejection, staleness, battery reserve).</param>
/// <param name="Reason">For a rejection: why, in words (a constant string).</param>
public readonly record struct RouteFilterResult(bool Passed, bool Soft, string? Reason)
{
    /// <summary>The candidate passes.</summary>
    public static RouteFilterResult Pass { get; } = new(true, false, null);

    /// <summary>A rejection panic mode must respect.</summary>
    /// <param name="reason">Why.</param>
    public static RouteFilterResult Hard(string reason) => new(false, false, reason);

    /// <summary>A rejection panic mode may ignore.</summary>
    /// <param name="reason">Why.</param>
    public static RouteFilterResult SoftReject(string reason) => new(false, true, reason);
}

/// <summary>A place the request could run, as the filters see it.</summary>
public readonly record struct RouteCandidate
{
    /// <summary>The node or endpoint id.</summary>
    public required string TargetId { get; init; }

    /// <summary>The mesh node, or null for an API endpoint.</summary>
    public MeshNode? Node { get; init; }

    /// <summary>The API endpoint, or null for a mesh node.</summary>
    public ApiEndpoint? Endpoint { get; init; }

    /// <summary>The model as the target serves it.</summary>
    public required ServedModel Model { get; init; }

    /// <summary>Relay hops (0: the target serves the model itself).</summary>
    public int RelayHops { get; init; }

    /// <summary>The scorer's cost (set only for filters with <see cref="IRouteFilter.NeedsCost"/>).</summary>
    public CostBreakdown Cost { get; init; }

    /// <summary>True while the target is ejected for failures.</summary>
    public bool Ejected { get; init; }
}
