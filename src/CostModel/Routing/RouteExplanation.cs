using System.Globalization;
using System.Text;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// Everything a decision considered: each candidate's cost terms, what was filtered and why, and
/// the flags. Reuse one instance per thread to keep routing allocation-free.
/// </summary>
public sealed class RouteExplanation
{
    private readonly List<CandidateExplanation> _candidates = [];

    /// <summary>The request.</summary>
    public RequestProfile? Request { get; private set; }

    /// <summary>The chosen target, or null.</summary>
    public string? ChosenTargetId { get; private set; }

    /// <summary>The decision's flags.</summary>
    public RouteNotes Flags { get; private set; }

    /// <summary>The affinity key's incumbent before this decision, if any.</summary>
    public string? Incumbent { get; private set; }

    /// <summary>Every candidate, the chosen one first, then the other eligible ones cheapest first, then the filtered ones.</summary>
    public IReadOnlyList<CandidateExplanation> Candidates => _candidates;

    internal void Reset(RequestProfile request)
    {
        Request = request;
        ChosenTargetId = null;
        Flags = RouteNotes.None;
        Incumbent = null;
        _candidates.Clear();
    }

    internal void Add(in CandidateExplanation candidate) => _candidates.Add(candidate);

    internal void Finish(string? chosen, RouteNotes flags, string? incumbent)
    {
        ChosenTargetId = chosen;
        Flags = flags;
        Incumbent = incumbent;
        _candidates.Sort((a, b) =>
        {
            int rank(CandidateExplanation c) => c.TargetId == chosen && c.FilteredBy is null ? 0 : c.FilteredBy is null ? 1 : 2;
            int byRank = rank(a).CompareTo(rank(b));
            return byRank != 0 ? byRank : a.AdjustedTotalDollars.CompareTo(b.AdjustedTotalDollars);
        });
    }

    /// <summary>A readable, multi-line account of the decision.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.Append(c, $"request {Request?.Model} ({Request?.InputTokens} in, {Request?.OutputTokens} out, {Request?.PayloadBytes} B, {Request?.Urgency})");
        text.Append(ChosenTargetId is null ? " -> no route" : $" -> {ChosenTargetId}");
        text.Append(c, $" [{Flags}]");
        if (Incumbent is not null)
        {
            text.Append(c, $" incumbent {Incumbent}");
        }

        text.AppendLine();
        foreach (CandidateExplanation candidate in _candidates)
        {
            CostBreakdown k = candidate.Cost;
            text.Append(c, $"  {(candidate.TargetId == ChosenTargetId && candidate.FilteredBy is null ? "*" : " ")} {candidate.TargetId,-24}");
            if (candidate.FilteredBy is not null)
            {
                text.Append(c, $" filtered by {candidate.FilteredBy}{(candidate.Soft ? " (soft)" : "")}: {candidate.Reason}");
            }
            else
            {
                text.Append(c, $" total {candidate.AdjustedTotalDollars:0.######} $ = latency {k.LatencySeconds:0.###} s (net {k.NetworkLatencySeconds:0.###} + compute {k.ComputeLatencySeconds:0.###}) x {k.ValueOfTimeDollarsPerSecond} $/s + energy {k.EnergyDollars:0.######} + network {k.NetworkDollars:0.######} + api {k.ApiDollars:0.######} + quality {k.QualityDollars:0.######}");
                if (k.RequesterLinkDollars > 0)
                {
                    text.Append(c, $"; network includes {k.RequesterLinkDollars:0.######} $ on this node's own metered link");
                }

                if (candidate.FailureRate > 0)
                {
                    // The total is the adjusted one: each expected failure retried, and priced at RoutingOptions.FailureCost when set.
                    text.Append(c, $"; with the expected failures at failure rate {candidate.FailureRate:0.##}");
                }

                if (k.Assumptions != CostAssumptions.None)
                {
                    text.Append(c, $"; assumed {k.Assumptions}");
                }
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}

/// <summary>One candidate in an explanation.</summary>
/// <param name="TargetId">The node or endpoint.</param>
/// <param name="Cost">The scorer's breakdown (default when filtered before scoring).</param>
/// <param name="AdjustedTotalDollars">The total the picker compared: the cost divided by the chance of success (expected attempts).</param>
/// <param name="FailureRate">The recent failure rate (0 to 1) used in the adjustment.</param>
/// <param name="FilteredBy">The filter that ruled it out, or null.</param>
/// <param name="Soft">True when that filter's rejection was soft.</param>
/// <param name="Reason">Why it was ruled out.</param>
public readonly record struct CandidateExplanation(string TargetId, CostBreakdown Cost, double AdjustedTotalDollars, double FailureRate, string? FilteredBy, bool Soft, string? Reason);
