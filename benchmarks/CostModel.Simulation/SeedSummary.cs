using System.Globalization;
using System.Text;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>
/// The section across scenario seeds (<c>--seeds</c>). One seed is one workload, one truth and one
/// set of draws, and where the choices are near equal (four alike desktops) the order a few requests
/// happen to take can move a total by more than a better policy gains; over several seeds a margin
/// either holds or it does not. Per policy the mean (min to max) of the total, the p95 and the flaps;
/// per goal how many seeds met it and which missed; and costmodel's total against the baseline with
/// the lowest mean: the mean of the per-seed differences with its 95 % interval (Student's t over the
/// seeds; the differences are paired by seed, since a seed's workload moves every policy's total
/// alike, which is what makes a small difference visible at all); and the totals and flaps summed
/// over the seeds against the oracle's.
/// </summary>
internal static class SeedSummary
{
    /// <summary>0.95: the confidence of the interval on the mean difference.</summary>
    public const double Confidence = 0.95;

    /// <summary>
    /// Student's t at 0.975 (two-sided 95 %) for 1 to 30 degrees of freedom, as tabled in the
    /// NIST/SEMATECH e-Handbook of Statistical Methods, section 1.3.6.7.2 (critical values of the t
    /// distribution); above 30 the Cornish-Fisher expansion (<see cref="StudentT975"/>).
    /// </summary>
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>1.959964: the standard normal distribution's 0.975 quantile.</summary>
    private const double Z975 = 1.959963984540054;

    /// <summary>The section for one scenario.</summary>
    /// <param name="seeds">The scenario's results, one per scenario seed, the report's seed first (at least two).</param>
    /// <returns>The markdown.</returns>
    public static string Write(IReadOnlyList<ScenarioResults> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count < 2)
        {
            throw new ArgumentException("A section across seeds needs at least two seeds.", nameof(seeds));
        }

        var md = new StringBuilder();
        int n = seeds.Count;
        string list = string.Join(", ", seeds.Select(s => s.Results[0].Seed.ToString(CultureInfo.InvariantCulture)));
        md.Append(F($"\nAcross {n} seeds ({list}; the tables and goals above are seed {seeds[0].Results[0].Seed}'s), each its own workload, truth and draws: mean (min to max).\n\n"));
        md.Append(F($"| {string.Join(" | ", MarkdownReport.SpreadColumns)} |\n"));
        md.Append(F($"|{string.Concat(MarkdownReport.SpreadColumns.Select((_, i) => i == 0 ? "---|" : "---:|"))}\n"));
        for (int p = 0; p < seeds[0].Results.Count; p++)
        {
            md.Append(F($"| {string.Join(" | ", MarkdownReport.SpreadCells([.. seeds.Select(s => s.Results[p])]))} |\n"));
        }

        IReadOnlyList<GoalResult>[] goals = [.. seeds.Select(GoalCheck.Evaluate)];
        if (goals[0].Count == 0)
        {
            return md.ToString();
        }

        md.Append(F($"\nGoals for costmodel across the {n} seeds:\n\n"));
        for (int g = 0; g < goals[0].Count; g++)
        {
            md.Append(F($"- {goals[0][g].Goal}: {Count([.. goals.Select(x => x[g])], seeds)}\n"));
        }

        if (AgainstBestBaseline(seeds) is { } baseline)
        {
            md.Append(F($"- {baseline}\n"));
        }

        if (AgainstOracle(seeds) is { } oracle)
        {
            md.Append(F($"- {oracle}\n"));
        }

        if (FlapsAgainstOracle(seeds) is { } flaps)
        {
            md.Append(F($"- {flaps}\n"));
        }

        if (AgainstTruth(seeds) is { } truth)
        {
            md.Append(F($"- costmodel's decisions against the truth over the seeds: {truth}\n"));
        }

        return md.ToString();
    }

    /// <summary>
    /// The mean of paired differences and its two-sided <see cref="Confidence"/> interval:
    /// mean -/+ t(0.975, n - 1) x s / sqrt(n), s the differences' sample standard deviation.
    /// </summary>
    /// <param name="differences">The per-seed differences (at least two).</param>
    /// <returns>The mean and the interval's ends.</returns>
    public static (double Mean, double Low, double High) Interval(IReadOnlyList<double> differences)
    {
        ArgumentNullException.ThrowIfNull(differences);
        if (differences.Count < 2)
        {
            throw new ArgumentException("An interval needs at least two differences.", nameof(differences));
        }

        int n = differences.Count;
        double mean = differences.Average();
        double variance = differences.Sum(d => (d - mean) * (d - mean)) / (n - 1);
        double half = StudentT975(n - 1) * Math.Sqrt(variance / n);
        return (mean, mean - half, mean + half);
    }

    /// <summary>
    /// Student's t at 0.975 for <paramref name="degreesOfFreedom"/>: the NIST table up to 30, above
    /// it the Cornish-Fisher expansion t = z + (z^3 + z) / 4v + (5z^5 + 16z^3 + 3z) / 96v^2
    /// (Abramowitz and Stegun 26.7.5; at 30 it gives 2.0422 against the table's 2.042, and it closes
    /// on the normal's 1.96 from above).
    /// </summary>
    /// <param name="degreesOfFreedom">The degrees of freedom, at least 1.</param>
    /// <returns>The quantile.</returns>
    public static double StudentT975(int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (degreesOfFreedom <= T975.Length)
        {
            return T975[degreesOfFreedom - 1];
        }

        double v = degreesOfFreedom;
        double z = Z975;
        double z3 = z * z * z;
        double z5 = z3 * z * z;
        return z + ((z3 + z) / (4 * v)) + (((5 * z5) + (16 * z3) + (3 * z)) / (96 * v * v));
    }

    // "met at 7 of 9 seeds (missed at 4, 6: at 4: ...; at 6: ...)", each missed seed with its goal's
    // brief figures, and the seeds where it did not apply.
    private static string Count(IReadOnlyList<GoalResult> verdicts, IReadOnlyList<ScenarioResults> seeds)
    {
        int Seed(int i) => seeds[i].Results[0].Seed;
        int[] missed = [.. Enumerable.Range(0, verdicts.Count).Where(i => verdicts[i].Verdict == Verdict.NotMet)];
        int met = verdicts.Count(v => v.Verdict == Verdict.Met);
        int judged = met + missed.Length;
        if (judged == 0)
        {
            return verdicts.All(v => v.Verdict == Verdict.NotApplicable) ? "n/a at every seed" : "not evaluated";
        }

        string text = F($"met at {met} of {judged} seeds");
        if (missed.Length > 0)
        {
            string why = string.Join("; ", missed.Where(i => verdicts[i].Brief is not null).Select(i => F($"at {Seed(i)}: {verdicts[i].Brief}")));
            text += F($" (**missed at {string.Join(", ", missed.Select(Seed))}**") + (why.Length == 0 ? ")" : ": " + why + ")");
        }

        int notJudged = verdicts.Count - judged;
        return notJudged == 0 ? text : text + F($"; n/a or not evaluated at {notJudged}");
    }

    // costmodel's total against the baseline with the lowest mean of those that kept the hard limits at every seed.
    private static string? AgainstBestBaseline(IReadOnlyList<ScenarioResults> seeds)
    {
        if (Metrics(seeds, RoutingPolicies.CostModel) is not { } ours)
        {
            return null;
        }

        (string Policy, SimulationMetrics[] Runs, double Mean)? best = null;
        foreach (SimulationResult r in seeds[0].Results)
        {
            if (r.Policy is RoutingPolicies.CostModel or RoutingPolicies.Oracle
                || Metrics(seeds, r.Policy) is not { } runs
                || seeds.Zip(runs).Any(x => GoalCheck.Breach(x.First.Scenario, x.Second) is not null))
            {
                continue;
            }

            double mean = runs.Average(m => m.TotalDollars);
            if (best is null || mean < best.Value.Mean)
            {
                best = (r.Policy, runs, mean);
            }
        }

        if (best is not { } b)
        {
            return null;
        }

        (double difference, double low, double high) = Interval([.. ours.Zip(b.Runs, (x, y) => x.TotalDollars - y.TotalDollars)]);
        string reading = high < 0 ? "costmodel lower, beyond the seeds' spread"
            : low > 0 ? "**costmodel higher, beyond the seeds' spread**"
            : "within the seeds' spread: these seeds cannot tell the two apart";
        return F($"costmodel's total minus {b.Policy}'s (the baselines' lowest mean, {b.Mean:0.0000} $, of those that kept the hard limits at every seed): {difference:+0.0000;-0.0000} $ a run, {Confidence:P0} interval {low:+0.0000;-0.0000} to {high:+0.0000;-0.0000} $: {reading}");
    }

    // costmodel's summed total over the oracle's, and the per-seed ratios' range.
    private static string? AgainstOracle(IReadOnlyList<ScenarioResults> seeds)
    {
        if (Metrics(seeds, RoutingPolicies.CostModel) is not { } ours || Metrics(seeds, RoutingPolicies.Oracle) is not { } oracle
            || oracle.Any(m => m.TotalDollars <= 0))
        {
            return null;
        }

        double[] ratios = [.. ours.Zip(oracle, (x, y) => x.TotalDollars / y.TotalDollars)];
        double summed = ours.Sum(m => m.TotalDollars) / oracle.Sum(m => m.TotalDollars);
        return F($"costmodel's total over the seeds {summed:0.00}x the oracle's ({ratios.Min():0.00} to {ratios.Max():0.00}x seed by seed)");
    }

    // The flaps summed over the seeds against the oracle's: a count of a few a seed is a coin toss
    // seed by seed, the sum is not.
    private static string? FlapsAgainstOracle(IReadOnlyList<ScenarioResults> seeds)
    {
        if (Metrics(seeds, RoutingPolicies.CostModel) is not { } ours || Metrics(seeds, RoutingPolicies.Oracle) is not { } oracle
            || ours.All(m => m.AffinityFollowUps == 0))
        {
            return null;
        }

        return F($"costmodel's flaps over the seeds {ours.Sum(m => m.RouteFlaps)} of {ours.Sum(m => m.AffinityFollowUps)} follow-ups ({ours.Sum(m => m.JustifiedRouteFlaps)} of them off a holder the truth made dear) against the oracle's {oracle.Sum(m => m.RouteFlaps)}");
    }

    // costmodel's decisions against the truth summed over the seeds (TruthText.Summary); null where
    // any seed went without the comparison (not run, or a mesh beyond its bound).
    private static string? AgainstTruth(IReadOnlyList<ScenarioResults> seeds)
    {
        if (Metrics(seeds, RoutingPolicies.CostModel) is not { } ours || ours.Any(m => m.AgainstTruth is null))
        {
            return null;
        }

        DecisionsAgainstTruth[] t = [.. ours.Select(m => m.AgainstTruth!)];
        static DecisionCause Sum(IEnumerable<DecisionCause> causes) => new(causes.Sum(c => c.Decisions), causes.Sum(c => c.ExtraDollars));
        var summed = new DecisionsAgainstTruth
        {
            Decisions = t.Sum(x => x.Decisions),
            Elsewhere = t.Sum(x => x.Elsewhere),
            ExtraDollars = t.Sum(x => x.ExtraDollars),
            Failing = Sum(t.Select(x => x.Failing)),
            Refused = Sum(t.Select(x => x.Refused)),
            Drawn = Sum(t.Select(x => x.Drawn)),
            Kept = Sum(t.Select(x => x.Kept)),
            SetAside = Sum(t.Select(x => x.SetAside)),
            Priced = Sum(t.Select(x => x.Priced)),
        };
        return summed.Elsewhere == 0 ? F($"none of {summed.Decisions} went to a truly dearer target") : TruthText.Summary(summed).TrimEnd('.');
    }

    // A policy's metrics at every seed, in the seeds' order; null when it was not run.
    private static SimulationMetrics[]? Metrics(IReadOnlyList<ScenarioResults> seeds, string policy) =>
        seeds[0].Of(policy) is null ? null : [.. seeds.Select(s => s.Of(policy)!.Metrics)];

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
