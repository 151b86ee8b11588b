using System.Globalization;
using System.Text.Json;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation.Tests;

public sealed class SeedSummaryTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "costmodel-seeds-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public void Seeds_add_a_section_across_them_and_leave_the_first_seeds_report_as_it_was()
    {
        string[] plainArgs = ["--scenario", "herding-burst", "--policy", "costmodel,round-robin,oracle", "--seed", "2", "--out", Path.Combine(_out, "plain")];
        var plain = new StringWriter();
        Assert.Equal(0, ReportRunner.Run(plainArgs, plain, TextWriter.Null));
        var seeds = new StringWriter();
        Assert.Equal(0, ReportRunner.Run([.. plainArgs[..^1], Path.Combine(_out, "seeds"), "--seeds", "3"], seeds, TextWriter.Null));

        // The tables and goals are the first seed's, the plain report's, word for word.
        string plainText = plain.ToString();
        string seedsText = seeds.ToString();
        int marker = seedsText.IndexOf("\nAcross 3 seeds (2, 3, 4; the tables and goals above are seed 2's)", StringComparison.Ordinal);
        Assert.True(marker > 0, seedsText);
        Assert.Equal(plainText[..plainText.IndexOf("\nWall time", StringComparison.Ordinal)], seedsText[..marker]);
        Assert.DoesNotContain("Across", plainText, StringComparison.Ordinal);

        // JSON: every run of every seed, each with its own seed, no router seed field.
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "seeds", "report.json")));
        JsonElement[] runs = [.. doc.RootElement.EnumerateArray()];
        Assert.Equal([2, 2, 2, 3, 3, 3, 4, 4, 4], runs.Select(r => r.GetProperty("seed").GetInt32()));
        Assert.All(runs, r => Assert.False(r.TryGetProperty("routerSeed", out _)));
        double[] Totals(string policy) => [.. runs.Where(r => r.GetProperty("policy").GetString() == policy).Select(r => r.GetProperty("totalDollars").GetDouble())];
        double[] ours = Totals("costmodel");
        double[] roundRobin = Totals("round-robin");
        double[] oracle = Totals("oracle");

        // The table's means are the three runs' means; the seeds differ, so the range is not one value.
        string section = seedsText[marker..seedsText.IndexOf("\nWall time", StringComparison.Ordinal)];
        string[] rows = [.. section.Split('\n').Where(l => l.StartsWith('|')).Skip(2)];
        Assert.Equal(["costmodel", "round-robin", "oracle"], rows.Select(r => r.Split('|', StringSplitOptions.TrimEntries)[1]));
        Assert.StartsWith(F($"{ours.Average():0.0000} ({ours.Min():0.0000} to {ours.Max():0.0000})"), rows[0].Split('|', StringSplitOptions.TrimEntries)[2], StringComparison.Ordinal);
        Assert.NotEqual(ours.Min(), ours.Max());

        // The lowest-total goal counted seed by seed against the one baseline run, the seeds missed named.
        int[] missed = [.. Enumerable.Range(0, 3).Where(i => ours[i] > roundRobin[i]).Select(i => i + 2)];
        string counted = F($"lowest one-currency total of all non-oracle policies that keep the scenario's hard limits (battery floor, spend cap): met at {3 - missed.Length} of 3 seeds");
        // Each missed seed with the baseline's total and costmodel's (and the oracle's, where the baseline was below it too).
        string Brief(int seed) => F($"at {seed}: round-robin {roundRobin[seed - 2]:0.0000} $ against {ours[seed - 2]:0.0000} $")
            + (roundRobin[seed - 2] < oracle[seed - 2] ? F($", below the oracle's {oracle[seed - 2]:0.0000} $ too") : "");
        Assert.Contains(missed.Length == 0 ? counted + "\n" : counted + F($" (**missed at {string.Join(", ", missed)}**: {string.Join("; ", missed.Select(Brief))})\n"), section, StringComparison.Ordinal);
        Assert.Contains("- API spend within each router's cap: n/a at every seed\n", section, StringComparison.Ordinal);

        // The paired difference against round-robin, and the total against the oracle's.
        (double mean, double low, double high) = SeedSummary.Interval([.. ours.Zip(roundRobin, (a, b) => a - b)]);
        Assert.Contains(F($"costmodel's total minus round-robin's (the baselines' lowest mean, {roundRobin.Average():0.0000} $, of those that kept the hard limits at every seed): {mean:+0.0000;-0.0000} $ a run, 95 % interval {low:+0.0000;-0.0000} to {high:+0.0000;-0.0000} $"), section, StringComparison.Ordinal);
        Assert.Contains(F($"costmodel's total over the seeds {ours.Sum() / oracle.Sum():0.00}x the oracle's"), section, StringComparison.Ordinal);
    }

    [Fact]
    public void The_difference_is_read_by_where_its_interval_lies()
    {
        Scenario scenario = Scenario.BuiltIn("herding-burst");
        ScenarioResults Seed(int seed, double ours, double theirs) => new(scenario, [Result(seed, "costmodel", ours), Result(seed, "p2c", theirs), Result(seed, "oracle", 1)]);

        // Lower at every seed by about 1 $: beyond the spread. The same differences' signs mixed: within it.
        string lower = SeedSummary.Write([Seed(1, 10, 11), Seed(2, 12, 13.1), Seed(3, 9, 9.9), Seed(4, 11, 12)]);
        Assert.Contains("-1.0000 $ a run, 95 % interval", lower, StringComparison.Ordinal);
        Assert.Contains(": costmodel lower, beyond the seeds' spread\n", lower, StringComparison.Ordinal);
        string mixed = SeedSummary.Write([Seed(1, 10, 11), Seed(2, 13, 12), Seed(3, 9, 9.9), Seed(4, 12, 11)]);
        Assert.Contains(": within the seeds' spread: these seeds cannot tell the two apart\n", mixed, StringComparison.Ordinal);
        string higher = SeedSummary.Write([Seed(1, 11, 10), Seed(2, 13.1, 12), Seed(3, 9.9, 9), Seed(4, 12, 11)]);
        Assert.Contains(": **costmodel higher, beyond the seeds' spread**\n", higher, StringComparison.Ordinal);

        // Seed by seed the lowest-total goal: met where costmodel was lower, the others named.
        Assert.Contains("met at 2 of 4 seeds (**missed at 2, 4**: at 2: p2c 12.0000 $ against 13.0000 $; at 4: p2c 11.0000 $ against 12.0000 $)\n", mixed, StringComparison.Ordinal);
        Assert.Contains("costmodel's total over the seeds 11.00x the oracle's (9.00 to 13.00x seed by seed)", mixed, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => SeedSummary.Write([Seed(1, 10, 11)]));

        // No conversations: no flap line.
        Assert.DoesNotContain("flaps over the seeds", mixed, StringComparison.Ordinal);
    }

    [Fact]
    public void A_seed_missed_by_a_baseline_below_the_oracle_too_says_so()
    {
        Scenario scenario = Scenario.BuiltIn("herding-burst");
        ScenarioResults Seed(int seed, double ours, double theirs, double oracle) => new(scenario, [Result(seed, "costmodel", ours), Result(seed, "p2c", theirs), Result(seed, "oracle", oracle)]);
        ScenarioResults[] seeds = [Seed(1, 10, 11, 9.5), Seed(2, 10, 9, 9.5), Seed(3, 10, 9.8, 9.5)];

        // Seed 2's p2c beat the oracle as well, seed 3's did not: only seed 2 says so.
        string text = SeedSummary.Write(seeds);
        Assert.Contains("met at 1 of 3 seeds (**missed at 2, 3**: at 2: p2c 9.0000 $ against 10.0000 $, below the oracle's 9.5000 $ too; at 3: p2c 9.8000 $ against 10.0000 $)\n", text, StringComparison.Ordinal);

        // The seed's own goal says why a policy below the oracle does not make costmodel's pricing wrong.
        GoalResult lowest = GoalCheck.Evaluate(seeds[1])[0];
        Assert.Equal(Verdict.NotMet, lowest.Verdict);
        Assert.Contains("; p2c's total is below the oracle's (9.5000 $) too: the oracle sends each request to the truly cheapest target at that instant", lowest.Figures, StringComparison.Ordinal);
        Assert.DoesNotContain("below the oracle's", GoalCheck.Evaluate(seeds[2])[0].Figures, StringComparison.Ordinal);

        // A goal met carries no brief: nothing to name.
        Assert.Null(GoalCheck.Evaluate(seeds[0])[0].Brief);
    }

    [Fact]
    public void A_miss_against_an_oracle_that_cost_nothing_gives_both_totals_not_an_infinite_ratio()
    {
        Scenario scenario = Scenario.BuiltIn("herding-burst");
        ScenarioResults Seed(int seed, double ours) => new(scenario, [Result(seed, "costmodel", ours), Result(seed, "p2c", 5), Result(seed, "oracle", 0)]);

        string text = SeedSummary.Write([Seed(1, 2), Seed(2, 3)]);

        Assert.Contains("one-currency total within 10 % of the oracle's: met at 0 of 2 seeds (**missed at 1, 2**: at 1: 2.0000 $ against the oracle's 0 $; at 2: 3.0000 $ against the oracle's 0 $)\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\u221E", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Flaps_are_summed_over_the_seeds_against_the_oracle_s()
    {
        Scenario scenario = Scenario.BuiltIn("near-equal-nodes");
        SimulationResult Flapping(int seed, string policy, int flaps, int justified) => Result(seed, policy, 10) with
        {
            Metrics = new SimulationMetrics { TotalDollars = 10, AffinityFollowUps = 30, RouteFlaps = flaps, JustifiedRouteFlaps = justified },
        };
        ScenarioResults Seed(int seed, int ours, int justified, int oracle) => new(scenario, [Flapping(seed, "costmodel", ours, justified), Flapping(seed, "oracle", oracle, oracle)]);

        // 1 against 0 misses the goal at seed 1; over the three seeds 4 against 6.
        string text = SeedSummary.Write([Seed(1, 1, 1, 0), Seed(2, 2, 1, 3), Seed(3, 1, 0, 3)]);
        Assert.Contains("route flaps no more than the oracle's + 10 %: met at 2 of 3 seeds (**missed at 1**: at 1: flaps 1 against the oracle's 0, 1 of them off a holder the truth made dear)\n", text, StringComparison.Ordinal);
        Assert.Contains("- costmodel's flaps over the seeds 4 of 90 follow-ups (2 of them off a holder the truth made dear) against the oracle's 6\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Decisions_against_the_truth_are_summed_over_the_seeds_by_cause()
    {
        Scenario scenario = Scenario.BuiltIn("herding-burst");
        SimulationResult Ours(int seed, DecisionsAgainstTruth? t) => Result(seed, "costmodel", 10) with
        {
            Metrics = new SimulationMetrics { TotalDollars = 10, AgainstTruth = t },
        };
        var one = new DecisionsAgainstTruth { Decisions = 50, Elsewhere = 3, ExtraDollars = 0.5, Drawn = new(2, 0.4), Priced = new(1, 0.1) };
        var two = new DecisionsAgainstTruth { Decisions = 60, Elsewhere = 4, ExtraDollars = 0.7, Drawn = new(1, 0.1), Failing = new(3, 0.6) };

        // The causes' counts and dollars add up over the seeds, the dearest first.
        string text = SeedSummary.Write([new(scenario, [Ours(1, one)]), new(scenario, [Ours(2, two)])]);
        Assert.Contains(
            "- costmodel's decisions against the truth over the seeds: 7 of 110 went to a truly dearer target or one the truth refuses, 1.2000 $ more at those instants: sent to a failing node 3 (0.6000 $), drawn at random 3 (0.5000 $), priced the cheapest by the router 1 (0.1000 $)\n",
            text,
            StringComparison.Ordinal);

        // A seed without the comparison (a mesh beyond its bound) leaves the line out; none elsewhere says so.
        Assert.DoesNotContain("against the truth over the seeds", SeedSummary.Write([new(scenario, [Ours(1, one)]), new(scenario, [Ours(2, null)])]), StringComparison.Ordinal);
        DecisionsAgainstTruth none = new() { Decisions = 20 };
        Assert.Contains("against the truth over the seeds: none of 40 went to a truly dearer target\n", SeedSummary.Write([new(scenario, [Ours(1, none)]), new(scenario, [Ours(2, none)])]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_baseline_that_broke_a_hard_limit_at_any_seed_is_not_the_one_compared()
    {
        Scenario scenario = Scenario.BuiltIn("api-budget");
        double cap = scenario.ApiDailyBudgetDollars!.Value;
        ScenarioResults Seed(int seed, double overspend) => new(scenario,
        [
            Result(seed, "costmodel", 10),
            Result(seed, "random", 5) with { Metrics = new SimulationMetrics { TotalDollars = 5, MaxRouterApiDollars = cap + overspend } },
            Result(seed, "p2c", 12),
        ]);

        // random is cheaper, but spent past the cap at the second seed: p2c is the baseline compared.
        string text = SeedSummary.Write([Seed(1, -1), Seed(2, 1)]);
        Assert.Contains("costmodel's total minus p2c's (the baselines' lowest mean, 12.0000 $,", text, StringComparison.Ordinal);
        Assert.DoesNotContain("minus random's", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_interval_is_the_mean_plus_minus_t_times_the_standard_error()
    {
        // 1 to 5: mean 3, standard deviation sqrt(2.5), t(0.975, 4) = 2.776: 3 -/+ 1.9629.
        (double mean, double low, double high) = SeedSummary.Interval([1, 2, 3, 4, 5]);
        Assert.Equal(3, mean, 12);
        Assert.Equal(3 - (2.776 * Math.Sqrt(2.5 / 5)), low, 12);
        Assert.Equal(3 + (2.776 * Math.Sqrt(2.5 / 5)), high, 12);

        // Equal differences have no spread: the interval is the point.
        Assert.Equal((0.5, 0.5, 0.5), SeedSummary.Interval([0.5, 0.5, 0.5]));
        Assert.Throws<ArgumentException>(() => SeedSummary.Interval([1]));
    }

    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(4, 2.776)]
    [InlineData(30, 2.042)]
    [InlineData(40, 2.021)] // NIST's table beyond the 30 rows kept: the expansion's figures
    [InlineData(60, 2.000)]
    [InlineData(100, 1.984)]
    public void Student_t_matches_the_table(int degreesOfFreedom, double expected) =>
        Assert.Equal(expected, SeedSummary.StudentT975(degreesOfFreedom), 3);

    [Fact]
    public void Student_t_falls_towards_the_normal_quantile_and_refuses_no_degrees_of_freedom()
    {
        double[] t = [.. Enumerable.Range(1, 200).Select(SeedSummary.StudentT975)];
        Assert.All(t.Zip(t.Skip(1)), pair => Assert.True(pair.Second < pair.First, $"{pair.Second} after {pair.First}"));
        Assert.All(t, value => Assert.True(value > 1.959963984540054));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeedSummary.StudentT975(0));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("33")]
    [InlineData("several")]
    public void A_seed_count_outside_1_to_32_is_a_usage_error(string count)
    {
        var error = new StringWriter();
        Assert.Equal(2, ReportRunner.Run(["--seeds", count], TextWriter.Null, error));
        Assert.Contains($"--seeds needs an integer from 1 to {ReportOptions.MaxSeeds}, not '{count}'.", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Seeds_follow_the_first_one_by_one()
    {
        Assert.Equal([7], ReportRunner.Seeds(7, 1));
        Assert.Equal([7, 8, 9], ReportRunner.Seeds(7, 3));
    }

    private static SimulationResult Result(int seed, string policy, double total) => new()
    {
        Scenario = "s", Policy = policy, Seed = seed, Requests = [], Battery = [], Decisions = [],
        Metrics = new SimulationMetrics { TotalDollars = total },
    };

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
