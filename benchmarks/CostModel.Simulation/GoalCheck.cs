using System.Globalization;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>How a goal came out.</summary>
internal enum Verdict
{
    /// <summary>The goal holds.</summary>
    Met,

    /// <summary>The goal does not hold.</summary>
    NotMet,

    /// <summary>The scenario does not exercise the goal (no bursts, no budget, no battery node).</summary>
    NotApplicable,

    /// <summary>A policy the goal compares with was not run (filtered out).</summary>
    NotEvaluated,
}

/// <summary>One issue goal for <c>costmodel</c> in one scenario.</summary>
/// <param name="Goal">The goal in words.</param>
/// <param name="Verdict">How it came out.</param>
/// <param name="Figures">The figures behind the verdict.</param>
internal sealed record GoalResult(string Goal, Verdict Verdict, string Figures)
{
    /// <summary>The verdict in words.</summary>
    public string VerdictText => Verdict switch
    {
        Verdict.Met => "met",
        Verdict.NotMet => "**not met**",
        Verdict.NotApplicable => "n/a",
        _ => "not evaluated",
    };
}

/// <summary>Checks the goals for <c>costmodel</c> against the other policies of the same scenario.</summary>
internal static class GoalCheck
{
    /// <summary>Flaps at most this share of greedy-original's.</summary>
    public const double FlapShareOfGreedy = 0.10;

    /// <summary>The largest burst share, in fair shares.</summary>
    public const double MaxBurstShare = 1.5;

    /// <summary>p95 latency at most this multiple of the oracle's.</summary>
    public const double OracleP95Factor = 1.2;

    /// <summary>The goals, in the order; empty when <c>costmodel</c> was not run.</summary>
    /// <param name="s">The scenario's results.</param>
    /// <returns>The goals.</returns>
    public static IReadOnlyList<GoalResult> Evaluate(ScenarioResults s)
    {
        ArgumentNullException.ThrowIfNull(s);
        SimulationResult? ours = s.Of(RoutingPolicies.CostModel);
        if (ours is null)
        {
            return [];
        }

        SimulationMetrics m = ours.Metrics;
        return [BatteryFloor(s.Scenario, m), Flaps(s, m), Burst(m), Latency(s, m), Budget(s.Scenario, m)];
    }

    private static GoalResult BatteryFloor(Scenario scenario, SimulationMetrics m)
    {
        const string goal = "zero battery-floor violations whenever an alternative exists";
        if (!scenario.Nodes.Any(n => n.Power.BatteryWattHours > 0))
        {
            return new(goal, Verdict.NotApplicable, "no battery node");
        }

        return new(goal, m.BatteryFloorViolations == 0 ? Verdict.Met : Verdict.NotMet, F($"{m.BatteryFloorViolations} violations"));
    }

    private static GoalResult Flaps(ScenarioResults s, SimulationMetrics m)
    {
        string goal = F($"route flaps <= {FlapShareOfGreedy:P0} of greedy-original's");
        if (m.AffinityFollowUps == 0)
        {
            return new(goal, Verdict.NotApplicable, "no conversation follow-ups");
        }

        SimulationResult? greedy = s.Of(RoutingPolicies.GreedyOriginal);
        if (greedy is null)
        {
            return new(goal, Verdict.NotEvaluated, F($"{m.RouteFlaps} flaps; greedy-original not run"));
        }

        int theirs = greedy.Metrics.RouteFlaps;
        double bound = FlapShareOfGreedy * theirs;
        string share = theirs == 0 ? "" : F($" ({(double)m.RouteFlaps / theirs:P0})");
        return new(goal, m.RouteFlaps <= bound ? Verdict.Met : Verdict.NotMet, F($"{m.RouteFlaps} flaps vs greedy-original's {theirs}{share}; bound {bound:0.#}"));
    }

    private static GoalResult Burst(SimulationMetrics m)
    {
        string goal = F($"max burst share <= {MaxBurstShare:0.0}x fair share");
        return m.MaxBurstShare is not double share
            ? new(goal, Verdict.NotApplicable, "no bursts")
            : new(goal, share <= MaxBurstShare ? Verdict.Met : Verdict.NotMet, F($"{share:0.00}x"));
    }

    private static GoalResult Latency(ScenarioResults s, SimulationMetrics m)
    {
        string goal = F($"p95 latency no worse than the best baseline and within {OracleP95Factor - 1:P0} of the oracle");
        SimulationResult? best = s.Results
            .Where(r => r.Policy is not RoutingPolicies.CostModel and not RoutingPolicies.Oracle && r.Metrics.CompletedRequests > 0)
            .MinBy(r => r.Metrics.P95LatencySeconds);
        SimulationResult? oracle = s.Of(RoutingPolicies.Oracle);
        if (m.CompletedRequests == 0)
        {
            return new(goal, Verdict.NotMet, "no request completed");
        }

        var figures = new List<string> { F($"costmodel {m.P95LatencySeconds:0.0} s") };
        bool met = true;
        if (best is not null)
        {
            met &= m.P95LatencySeconds <= best.Metrics.P95LatencySeconds;
            figures.Add(F($"best baseline {best.Policy} {best.Metrics.P95LatencySeconds:0.0} s"));
        }

        if (oracle is not null && oracle.Metrics.CompletedRequests > 0)
        {
            double bound = OracleP95Factor * oracle.Metrics.P95LatencySeconds;
            met &= m.P95LatencySeconds <= bound;
            figures.Add(F($"oracle {oracle.Metrics.P95LatencySeconds:0.0} s (bound {bound:0.0} s)"));
        }

        if (best is null || oracle is null)
        {
            figures.Add((best, oracle) switch
            {
                (null, null) => "no baseline and no oracle run",
                (null, _) => "no baseline run",
                _ => "oracle not run",
            });
            return new(goal, met ? Verdict.NotEvaluated : Verdict.NotMet, string.Join("; ", figures));
        }

        return new(goal, met ? Verdict.Met : Verdict.NotMet, string.Join("; ", figures));
    }

    private static GoalResult Budget(Scenario scenario, SimulationMetrics m)
    {
        const string goal = "API spend within budget";
        if (scenario.ApiDailyBudgetDollars is not double budget)
        {
            return new(goal, Verdict.NotApplicable, "no budget");
        }

        return new(
            goal,
            m.MaxRouterApiDollars <= budget ? Verdict.Met : Verdict.NotMet,
            F($"most by one router {m.MaxRouterApiDollars:0.0000} $ of {budget:0.0000} $ per router (all routers {m.ApiDollars:0.0000} $)"));
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
