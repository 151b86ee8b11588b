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

    /// <summary>The largest burst share at most this multiple of the oracle's (issue 17: the oracle too gives fast nodes more than a fair share).</summary>
    public const double OracleBurstShareFactor = 2.0;

    /// <summary>The p95 latency of the burst's requests at most this multiple of the oracle's (issue 17).</summary>
    public const double OracleBurstP95Factor = 1.5;

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
        return [BatteryFloor(s.Scenario, m), Flaps(s, m), Burst(m), BurstVersusOracle(s, ours), Latency(s, m), Budget(s.Scenario, m)];
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

    private static GoalResult BurstVersusOracle(ScenarioResults s, SimulationResult ours)
    {
        string goal = F($"burst share <= {OracleBurstShareFactor:0.0}x the oracle's and burst p95 <= {OracleBurstP95Factor:0.0}x the oracle's");
        if (ours.Metrics.MaxBurstShare is not double share)
        {
            return new(goal, Verdict.NotApplicable, "no bursts");
        }

        double p95 = BurstP95(s.Scenario, ours);
        if (s.Of(RoutingPolicies.Oracle) is not { Metrics.MaxBurstShare: double oracleShare } oracle)
        {
            return new(goal, Verdict.NotEvaluated, F($"share {share:0.00}x, burst p95 {p95:0.0} s; oracle not run"));
        }

        double oracleP95 = BurstP95(s.Scenario, oracle);
        bool met = share <= OracleBurstShareFactor * oracleShare && p95 <= OracleBurstP95Factor * oracleP95;
        return new(goal, met ? Verdict.Met : Verdict.NotMet,
            F($"share {share:0.00}x vs oracle {oracleShare:0.00}x ({share / oracleShare:0.00}x); burst p95 {p95:0.0} s vs oracle {oracleP95:0.0} s ({p95 / oracleP95:0.00}x)"));
    }

    /// <summary>
    /// The 95th percentile latency (nearest rank) of the completed requests that arrived within a
    /// burst's window (its start to its end), every burst together; 0 when none completed.
    /// </summary>
    /// <param name="scenario">The scenario (its bursts).</param>
    /// <param name="result">One policy's run.</param>
    /// <returns>Seconds.</returns>
    public static double BurstP95(Scenario scenario, SimulationResult result)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(result);
        double[] latencies = [.. result.Requests
            .Where(r => r.Succeeded && scenario.Workload.Bursts.Any(b => r.ArrivalSeconds >= b.AtSeconds && r.ArrivalSeconds <= b.AtSeconds + b.WithinSeconds))
            .Select(r => r.LatencySeconds)
            .Order()];
        return latencies.Length == 0 ? 0 : latencies[Math.Clamp((int)Math.Ceiling(0.95 * latencies.Length) - 1, 0, latencies.Length - 1)];
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
