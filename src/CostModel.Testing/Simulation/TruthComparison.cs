using CostModel.Routing;

namespace CostModel.Testing.Simulation;

/// <summary>
/// Compares the library router's decisions with the truth's cheapest target at the instant of each
/// (<see cref="DecisionsAgainstTruth"/>): asked right after the router decided, before the simulator
/// places the request, so the truth is the state the router decided in.
/// </summary>
internal sealed class TruthComparison
{
    private const string FailingCause = "failing";
    private const string RefusedCause = "refused";
    private const string DrawnCause = "drawn";
    private const string KeptCause = "kept";
    private const string SetAsideCause = "set-aside";
    private const string PricedCause = "priced";
    private const string NotInView = "not in the view";

    private int _decisions;
    private int _elsewhere;
    private double _extra;
    private DecisionCause _failing;
    private DecisionCause _refused;
    private DecisionCause _drawn;
    private DecisionCause _kept;
    private DecisionCause _setAside;
    private DecisionCause _priced;
    private DecisionAgainstTruth? _largest;
    private bool _skipped;

    /// <summary>Compares one decision with the truth's cheapest then.</summary>
    /// <param name="run">The run, at the decision's instant.</param>
    /// <param name="router">The router that decided.</param>
    /// <param name="request">The request (its <see cref="SimRequest.PredictedSeconds"/> set from the decision).</param>
    /// <param name="decision">The decision.</param>
    /// <param name="explanation">The decision's explanation (the router's price of the truth's cheapest).</param>
    public void Compare(SimulationRun run, SimHost router, SimRequest request, RouteDecision decision, RouteExplanation explanation)
    {
        if (run.Scenario.Nodes.Count + run.Scenario.Apis.Count > DecisionsAgainstTruth.MaxTargets)
        {
            _skipped = true;
            return;
        }

        string? truth = OraclePolicy.TrueCheapest(run, router, request, out double best);
        if (truth is null || decision.TargetId is not { } target)
        {
            return;
        }

        _decisions++;
        if (string.Equals(target, truth, StringComparison.Ordinal))
        {
            return;
        }

        // The pick by the truth: allowed (its true cost), serving but refused by the truth (a request's
        // constraint broken at the true price, or the router's cap passed), or failing (charged the timeout).
        double? trueSeconds = null;
        double cost = run.Scenario.RequestTimeoutSeconds * router.Scoring.ValueOfTime(request.Urgency);
        bool allowed = false;
        bool serves = false;
        foreach (Target t in run.AllTargets(router))
        {
            if (string.Equals(t.Id, target, StringComparison.Ordinal))
            {
                serves = OraclePolicy.TrueCost(run, router, t, request, out double c, out double latency, out _);
                if (serves)
                {
                    allowed = OraclePolicy.Allows(run, router, t, request);
                    cost = c;
                    trueSeconds = latency;
                }

                break;
            }
        }

        // A refused pick is counted whatever it cost (at least nothing more); any other only when truly dearer.
        bool refused = serves && !allowed;
        double extra = refused ? Math.Max(0, cost - best) : cost - best;
        if (!refused && !(extra > DecisionsAgainstTruth.TieDollars))
        {
            return;
        }

        (double? truthPredicted, string? filteredBy) = RouterPrice(explanation, truth);
        string cause;
        if (!serves)
        {
            cause = FailingCause;
            _failing = Add(_failing, extra);
        }
        else if (refused)
        {
            cause = RefusedCause;
            _refused = Add(_refused, extra);
        }
        else if ((decision.Flags & RouteNotes.RandomTieBreak) != 0)
        {
            cause = DrawnCause;
            _drawn = Add(_drawn, extra);
        }
        else if ((decision.Flags & RouteNotes.StickyKept) != 0)
        {
            cause = KeptCause;
            _kept = Add(_kept, extra);
        }
        else if (filteredBy is not null)
        {
            cause = SetAsideCause;
            _setAside = Add(_setAside, extra);
        }
        else
        {
            cause = PricedCause;
            _priced = Add(_priced, extra);
        }

        _elsewhere++;
        _extra += extra;
        if (_largest is null || extra > _largest.ExtraDollars || (_largest.ExtraDollars == 0 && refused))
        {
            _largest = Describe(run, router, request, cause, target, truth, extra, trueSeconds, truthPredicted, filteredBy);
        }
    }

    /// <summary>The comparison so far; null when no decision was compared because the mesh is beyond <see cref="DecisionsAgainstTruth.MaxTargets"/>.</summary>
    /// <returns>The comparison, or null.</returns>
    public DecisionsAgainstTruth? Result() => _skipped ? null : new DecisionsAgainstTruth
    {
        Decisions = _decisions,
        Elsewhere = _elsewhere,
        ExtraDollars = Round(_extra),
        Failing = Rounded(_failing),
        Refused = Rounded(_refused),
        Drawn = Rounded(_drawn),
        Kept = Rounded(_kept),
        SetAside = Rounded(_setAside),
        Priced = Rounded(_priced),
        Largest = _largest,
    };

    // The router's predicted latency of the truth's cheapest, or the filter that set it aside and why ("not in the view" when it was no candidate).
    private static (double? Predicted, string? FilteredBy) RouterPrice(RouteExplanation explanation, string truth)
    {
        foreach (CandidateExplanation candidate in explanation.Candidates)
        {
            if (string.Equals(candidate.TargetId, truth, StringComparison.Ordinal))
            {
                return candidate.FilteredBy is null
                    ? (Round(candidate.Cost.LatencySeconds), null)
                    : (null, string.IsNullOrEmpty(candidate.Reason) ? candidate.FilteredBy : $"{candidate.FilteredBy}: {candidate.Reason}");
            }
        }

        return (null, NotInView);
    }

    private static DecisionAgainstTruth Describe(SimulationRun run, SimHost router, SimRequest request, string cause, string target, string truth, double extra, double? trueSeconds, double? truthPredicted, string? filteredBy)
    {
        double truthSeconds = 0;
        foreach (Target t in run.AllTargets(router))
        {
            if (string.Equals(t.Id, truth, StringComparison.Ordinal))
            {
                OraclePolicy.TryTrueCost(run, router, t, request, out _, out truthSeconds, out _);
                break;
            }
        }

        return new DecisionAgainstTruth
        {
            TimeSeconds = Round(run.Now),
            Router = router.Id,
            Urgency = request.Urgency.ToString().ToLowerInvariant(),
            Cause = cause,
            Target = target,
            TruthTarget = truth,
            ExtraDollars = Round(extra),
            PredictedSeconds = double.IsFinite(request.PredictedSeconds) ? Round(request.PredictedSeconds) : null,
            TrueSeconds = trueSeconds is { } s ? Round(s) : null,
            TruthPredictedSeconds = truthPredicted,
            TruthTrueSeconds = Round(truthSeconds),
            TruthFilteredBy = filteredBy,
        };
    }

    private static DecisionCause Add(DecisionCause c, double extra) => new(c.Decisions + 1, c.ExtraDollars + extra);

    private static DecisionCause Rounded(DecisionCause c) => c with { ExtraDollars = Round(c.ExtraDollars) };

    private static double Round(double v) => Math.Round(v, 6);
}
