using System.Text.Json;
using System.Xml.Linq;

namespace CostModel.Simulation.Tests;

public sealed class ReportRunnerTests : IDisposable
{
    private static readonly string[] RequiredFields =
    [
        "scenario", "policy", "p50LatencySeconds", "p95LatencySeconds", "p99LatencySeconds", "completedRequests",
        "failedRequests", "batteryWattHoursDrained", "batteryFloorViolations", "apiDollars", "meteredGigabytes",
        "routeFlaps", "justifiedRouteFlaps", "maxBurstShare", "unplugReactionSeconds", "latencyDollars", "energyDollars", "batteryDollars",
        "meteredDollars", "totalDollars", "assumptions",
    ];

    private readonly string _out = Path.Combine(Path.GetTempPath(), "costmodel-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public void One_small_scenario_gives_json_rows_a_table_with_goal_lines_and_an_svg_chart()
    {
        string json = Path.Combine(_out, "r.json");
        var output = new StringWriter();
        var error = new StringWriter();

        int code = ReportRunner.Run(
            ["--scenario", "laptop-unplugged", "--policy", "round-robin,costmodel", "--out", _out, "--json", json],
            output,
            error);

        Assert.Equal(0, code);
        Assert.Equal("", error.ToString());

        // JSON: one object per scenario x policy, costmodel first, with every required field.
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement[] rows = [.. doc.RootElement.EnumerateArray()];
        Assert.Equal(["costmodel", "round-robin"], rows.Select(r => r.GetProperty("policy").GetString()));
        Assert.All(rows, r => Assert.Equal("laptop-unplugged", r.GetProperty("scenario").GetString()));
        Assert.All(rows, r => Assert.All(RequiredFields, f => Assert.True(r.TryGetProperty(f, out _), $"missing {f}")));
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("maxBurstShare").ValueKind);
        Assert.True(rows[0].GetProperty("completedRequests").GetInt32() > 0);
        Assert.True(rows[0].GetProperty("totalDollars").GetDouble() > 0);
        Assert.True(rows[0].GetProperty("assumptions").GetProperty("decisions").GetInt32() > 0);
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("assumptions").ValueKind);
        Assert.True(rows[0].GetProperty("predictions").GetProperty("requests").GetInt32() > 0);
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("predictions").ValueKind);
        Assert.Equal(rows[0].GetProperty("requests").GetInt32(), rows[0].GetProperty("againstTruth").GetProperty("decisions").GetInt32());
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("againstTruth").ValueKind);

        // Markdown: one table with a header, a separator and a row per policy, then the goal lines.
        string markdown = output.ToString();
        Assert.Equal(markdown[..markdown.IndexOf("Wall time", StringComparison.Ordinal)], File.ReadAllText(Path.Combine(_out, "report.md"))[..markdown.IndexOf("Wall time", StringComparison.Ordinal)]);
        string[] lines = markdown.Split('\n');
        Assert.Single(lines, l => l.StartsWith("### laptop-unplugged", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("costmodel's latency predictions against the outcomes (", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("costmodel's decisions against the truth's cheapest target at the instant of each (", StringComparison.Ordinal) && l.Contains(" The largest: at ", StringComparison.Ordinal));
        string[] table = [.. lines.Where(l => l.StartsWith('|'))];
        Assert.Equal(4, table.Length);
        Assert.StartsWith("| policy | total $ | latency $ | energy $ | battery $ | metered $ | API $ | p50 s |", table[0], StringComparison.Ordinal);
        Assert.StartsWith("| costmodel |", table[2], StringComparison.Ordinal);
        Assert.StartsWith("| round-robin |", table[3], StringComparison.Ordinal);
        Assert.All(table, row => Assert.Equal(MarkdownReport.Columns.Count + 1, row.Count(c => c == '|')));
        Assert.Contains(lines, l => l.StartsWith("- zero battery-floor violations whenever an alternative exists: met", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- lowest one-currency total of all non-oracle policies that keep the scenario's hard limits (battery floor, spend cap): ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- one-currency total within 10 % of the oracle's: not evaluated", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- route flaps no more than the oracle's + 10 %: not evaluated", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("costmodel's decisions that carried an assumption (", StringComparison.Ordinal) && l.EndsWith(" (power draw prior 100.0 %).", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- max burst share <= 1.5x fair share: n/a", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Wall time: ", StringComparison.Ordinal));

        // Chart: an SVG document with two panels; the latency panel's legend names each policy,
        // the battery panel's each battery node under each of the two policies.
        string chart = Path.Combine(_out, "laptop-unplugged.svg");
        Assert.True(new FileInfo(chart).Length > 1000);
        XDocument svg = XDocument.Load(chart);
        XNamespace ns = "http://www.w3.org/2000/svg";
        XElement[] panels = [.. svg.Root!.Elements(ns + "svg")];
        Assert.Equal(2, panels.Length);
        string[] latencyTexts = [.. panels[0].Descendants(ns + "text").Select(t => t.Value)];
        Assert.Single(latencyTexts, t => t.StartsWith("costmodel (p95 ", StringComparison.Ordinal));
        Assert.Single(latencyTexts, t => t.StartsWith("round-robin (p95 ", StringComparison.Ordinal));
        string[] batteryTexts = [.. panels[1].Descendants(ns + "text").Select(t => t.Value)];
        Assert.Equal(4, batteryTexts.Count(t => t.EndsWith("(costmodel)", StringComparison.Ordinal) || t.EndsWith("(round-robin)", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_user_scenario_file_runs_and_an_unknown_scenario_or_policy_is_an_error()
    {
        Directory.CreateDirectory(_out);
        string file = Path.Combine(_out, "mine.json");
        File.WriteAllText(file, """
            { "name": "mine", "durationSeconds": 30,
              "nodes": [ { "id": "a", "models": [ { "id": "llama-3.1-8b" } ] }, { "id": "b", "models": [ { "id": "llama-3.1-8b" } ] } ] }
            """);
        var output = new StringWriter();

        Assert.Equal(0, ReportRunner.Run(["--scenario", file, "--policy", "costmodel", "--out", _out, "--seed", "3"], output, TextWriter.Null));
        Assert.Contains("### mine (seed 3)", output.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_out, "mine.svg")));
        Assert.True(File.Exists(Path.Combine(_out, "report.json")));

        var error = new StringWriter();
        Assert.Equal(2, ReportRunner.Run(["--scenario", "no-such-scenario"], TextWriter.Null, error));
        Assert.Contains("no-such-scenario", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, ReportRunner.Run(["--policy", "fastest"], TextWriter.Null, TextWriter.Null));
        Assert.Equal(2, ReportRunner.Run(["--seed"], TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public void A_scenario_whose_costModel_the_nodes_refuse_is_an_error_not_a_crash()
    {
        Directory.CreateDirectory(_out);
        string file = Path.Combine(_out, "bad.json");
        File.WriteAllText(file, """
            { "name": "bad", "durationSeconds": 10, "nodes": [ { "id": "a", "models": [ { "id": "llama-3.1-8b" } ] } ],
              "costModel": { "Gossip": { "Mtu": 2000000000 } } }
            """);
        var error = new StringWriter();

        Assert.Equal(2, ReportRunner.Run(["--scenario", file, "--policy", "round-robin", "--out", _out], TextWriter.Null, error));
        Assert.StartsWith("error: bad: costModel options are invalid for node 'a'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missed_total_goal_says_which_terms_made_the_difference()
    {
        var ours = new Testing.Simulation.SimulationMetrics { LatencyDollars = 1.5, EnergyDollars = 0.1, ApiDollars = 0.2, FailedRequests = 3 };
        var theirs = new Testing.Simulation.SimulationMetrics { LatencyDollars = 1.0, EnergyDollars = 0.1, ApiDollars = 0.3, FailedRequests = 1 };
        Assert.Equal("latency +0.5000 $, api -0.1000 $; failed requests 3 vs 1", GoalCheck.Why(ours, theirs));

        // A term that rounds to nothing at four decimals is left out, not printed as "-+0.0000".
        var tiny = new Testing.Simulation.SimulationMetrics { LatencyDollars = 1.5, EnergyDollars = 0.1 - 4e-6 };
        Assert.Equal("latency +0.5000 $", GoalCheck.Why(tiny, theirs with { FailedRequests = 0, ApiDollars = 0 }));

        // costmodel's decisions against the truth follow: how many went elsewhere, by cause, the dearest cause first, causes with none left out.
        var against = new Testing.Simulation.DecisionsAgainstTruth
        {
            Decisions = 40,
            Elsewhere = 5,
            ExtraDollars = 0.9,
            Drawn = new(3, 0.2),
            Priced = new(2, 0.7),
        };
        Assert.Equal(
            "latency +0.5000 $; at its decisions: 5 of 40 went to a truly dearer target or one the truth refuses, 0.9000 $ more at those instants: priced the cheapest by the router 2 (0.7000 $), drawn at random 3 (0.2000 $)",
            GoalCheck.Why(tiny with { AgainstTruth = against }, theirs with { FailedRequests = 0, ApiDollars = 0 }));

        // None elsewhere: nothing to say about the decisions.
        Assert.Equal("latency +0.5000 $", GoalCheck.Why(tiny with { AgainstTruth = against with { Elsewhere = 0 } }, theirs with { FailedRequests = 0, ApiDollars = 0 }));
    }

    [Theory]
    [InlineData("herding-burst", "**not met**")]
    [InlineData("mesh-burst-48", "n/a")]
    public void The_fair_share_burst_bound_applies_where_the_nodes_are_alike(string scenarioName, string verdict)
    {
        // The same 3-fair-share burst: a miss over four equal desktops; over GPU boxes and small
        // machines (20 times apart) no target, the bound against the oracle's share applies there.
        Testing.Simulation.Scenario scenario = Testing.Simulation.Scenario.BuiltIn(scenarioName);
        var ours = new Testing.Simulation.SimulationResult
        {
            Scenario = scenarioName, Policy = "costmodel", Seed = 1, Requests = [], Battery = [], Decisions = [],
            Metrics = new Testing.Simulation.SimulationMetrics { MaxBurstShare = 3 },
        };
        GoalResult burst = Assert.Single(GoalCheck.Evaluate(new ScenarioResults(scenario, [ours])), g => g.Goal.StartsWith("max burst share", StringComparison.Ordinal));
        Assert.Equal(verdict, burst.VerdictText);
        Assert.StartsWith("3.00x", burst.Figures, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missed_burst_goal_names_the_node_that_took_most_and_where_its_requests_came_from()
    {
        // herding-burst's four desktops; three routers send two burst requests each and one sends
        // three, and desk-1 takes five of the nine: two first requests, two seconds and a third.
        // A steady request to desk-1 and a burst request with no target are not counted.
        Testing.Simulation.Scenario scenario = Testing.Simulation.Scenario.BuiltIn("herding-burst");
        static Testing.Simulation.RequestRecord R(string router, double sent, string? target, int? burst) => new()
        {
            Router = router, SentSeconds = sent, ArrivalSeconds = sent, Target = target, Burst = burst, Urgency = "normal", Succeeded = true, LatencySeconds = 10,
        };
        Testing.Simulation.RequestRecord[] requests =
        [
            R("desk-1", 10, "desk-1", null),
            R("desk-1", 60.0, "desk-1", 0), R("desk-1", 60.1, "desk-1", 0), R("desk-1", 60.2, "desk-1", 0),
            R("desk-2", 60.0, "desk-1", 0), R("desk-2", 60.3, "desk-2", 0),
            R("desk-3", 60.1, "desk-3", 0), R("desk-3", 60.2, "desk-1", 0),
            R("desk-4", 60.0, "desk-4", 0), R("desk-4", 60.4, "desk-2", 0), R("desk-4", 60.5, null, 0),
        ];
        Testing.Simulation.SimulationResult Result(string policy, double share, Testing.Simulation.RequestRecord[] records) => new()
        {
            Scenario = scenario.Name, Policy = policy, Seed = 1, Requests = records, Battery = [], Decisions = [],
            Metrics = new Testing.Simulation.SimulationMetrics { MaxBurstShare = share },
        };
        Testing.Simulation.RequestRecord[] oracleRequests = [.. requests.Select((r, i) => r with { Target = r.Target is null ? null : $"desk-{(i % 4) + 1}" })];
        IReadOnlyList<GoalResult> goals = GoalCheck.Evaluate(new ScenarioResults(scenario, [Result("costmodel", 2.22, requests), Result("oracle", 1.0, oracleRequests)]));

        const string why = "; the most on one node: desk-1 took 5 of burst 0's 9 requests from 3 routers, 2 of them a router's first request of the burst, 2 a second, 1 a later one; the oracle put 2 there";
        GoalResult fair = Assert.Single(goals, g => g.Goal.StartsWith("max burst share", StringComparison.Ordinal));
        Assert.Equal("**not met**", fair.VerdictText);
        Assert.Equal("2.22x" + why, fair.Figures);
        GoalResult againstOracle = Assert.Single(goals, g => g.Goal.StartsWith("burst share <=", StringComparison.Ordinal));
        Assert.Equal("**not met**", againstOracle.VerdictText);
        Assert.EndsWith(why, againstOracle.Figures, StringComparison.Ordinal);

        // Without an oracle run the why stops at where the requests came from; without burst requests it is empty.
        Assert.Equal(why[..why.IndexOf("; the oracle", StringComparison.Ordinal)], GoalCheck.BurstWhy(Result("costmodel", 2.22, requests), null));
        Assert.Equal("", GoalCheck.BurstWhy(Result("costmodel", 2.22, [requests[0]]), null));
    }

    [Fact]
    public void A_missed_floor_goal_tells_the_first_violation_as_the_truth_and_the_router_saw_it()
    {
        Testing.Simulation.Scenario scenario = Testing.Simulation.Scenario.BuiltIn("laptop-unplugged");
        var first = new Testing.Simulation.FloorViolation
        {
            TimeSeconds = 73.24, Router = "desktop", Node = "laptop-fast", Urgency = "background",
            TruePercent = 9.985, SeenPercent = 10.03, SeenAgeSeconds = 0.74, SeenSource = "Battery",
        };
        var ours = new Testing.Simulation.SimulationResult
        {
            Scenario = scenario.Name, Policy = "costmodel", Seed = 8, Requests = [], Battery = [], Decisions = [],
            Metrics = new Testing.Simulation.SimulationMetrics { BatteryFloorViolations = 1, FirstFloorViolation = first },
        };
        GoalResult floor = Assert.Single(GoalCheck.Evaluate(new ScenarioResults(scenario, [ours])), g => g.Goal.StartsWith("zero battery-floor", StringComparison.Ordinal));
        Assert.Equal("**not met**", floor.VerdictText);
        Assert.EndsWith("; the first at 73.2 s: desktop sent a background request to laptop-fast at 9.985 % (its reading 10.030 %, Battery, 0.74 s old)", floor.Figures, StringComparison.Ordinal);

        // A router without a reading of the charge, or without the node in its view, says so.
        Assert.EndsWith("(its reading of the charge none, Unknown)", GoalCheck.FloorWhy(first with { SeenPercent = null, SeenAgeSeconds = null, SeenSource = "Unknown" }), StringComparison.Ordinal);
        Assert.EndsWith("(its view did not hold the node)", GoalCheck.FloorWhy(first with { SeenPercent = null, SeenAgeSeconds = null, SeenSource = null }), StringComparison.Ordinal);
        Assert.Equal("", GoalCheck.FloorWhy(null));
    }

    [Fact]
    public void A_missed_flap_goal_says_how_many_moves_the_truth_justified()
    {
        Testing.Simulation.Scenario scenario = Testing.Simulation.Scenario.BuiltIn("near-equal-nodes");
        Testing.Simulation.SimulationResult Result(string policy, int flaps, int justified) => new()
        {
            Scenario = scenario.Name, Policy = policy, Seed = 1, Requests = [], Battery = [], Decisions = [],
            Metrics = new Testing.Simulation.SimulationMetrics { AffinityFollowUps = 90, RouteFlaps = flaps, JustifiedRouteFlaps = justified },
        };

        GoalResult Flaps(int ours, int justified, int oracle) => Assert.Single(
            GoalCheck.Evaluate(new ScenarioResults(scenario, [Result("costmodel", ours, justified), Result("oracle", oracle, oracle)])),
            g => g.Goal.StartsWith("route flaps", StringComparison.Ordinal));

        GoalResult missed = Flaps(4, 3, 1);
        Assert.Equal("**not met**", missed.VerdictText);
        Assert.EndsWith("3 of 4 left a holder that was not the cheapest by the truth then (the oracle, asked at that instant, leaves it too), 1 left the truly cheapest", missed.Figures, StringComparison.Ordinal);

        GoalResult met = Flaps(1, 0, 1);
        Assert.Equal("met", met.VerdictText);
        Assert.DoesNotContain("by the truth", met.Figures, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_memory_budget_is_a_usage_error()
    {
        var error = new StringWriter();
        Assert.Equal(2, ReportRunner.Run(["--memory-budget", "-1"], TextWriter.Null, error));
        Assert.Contains("--memory-budget", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Router_seeds_add_a_spread_table_and_leave_the_plain_report_as_it_was()
    {
        string[] plainArgs = ["--scenario", "laptop-unplugged", "--policy", "round-robin,costmodel,random", "--out", Path.Combine(_out, "plain")];
        var plain = new StringWriter();
        Assert.Equal(0, ReportRunner.Run(plainArgs, plain, TextWriter.Null));
        var spread = new StringWriter();
        Assert.Equal(0, ReportRunner.Run([.. plainArgs[..^1], Path.Combine(_out, "spread"), "--router-seeds", "3"], spread, TextWriter.Null));

        // The tables and goals are the first router seed's, the plain report's, word for word.
        string plainText = plain.ToString();
        string spreadText = spread.ToString();
        int marker = spreadText.IndexOf("\nRouter-seed spread over 3 router seeds (1, 1001, 2001;", StringComparison.Ordinal);
        Assert.True(marker > 0, spreadText);
        Assert.Equal(plainText[..plainText.IndexOf("\nWall time", StringComparison.Ordinal)], spreadText[..marker]);
        Assert.DoesNotContain("Router-seed spread", plainText, StringComparison.Ordinal);

        // One spread row per policy; round-robin draws nothing, so its range is one value.
        string[] rows = [.. spreadText[marker..].Split('\n').Where(l => l.StartsWith('|')).Skip(2).TakeWhile(l => l.StartsWith('|'))];
        Assert.Equal(["costmodel", "round-robin", "random"], rows.Select(r => r.Split('|', StringSplitOptions.TrimEntries)[1]));
        Assert.All(rows, row => Assert.Equal(MarkdownReport.SpreadColumns.Count + 1, row.Count(c => c == '|')));
        string total = rows[1].Split('|', StringSplitOptions.TrimEntries)[2];
        string[] parts = total.Split([" (", " to ", ")"], StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, parts.Length);
        Assert.Single(parts.Distinct());

        // JSON: every run, each with its router seed; the plain report has no such field.
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "spread", "report.json")));
        Assert.Equal([1, 1, 1, 1001, 1001, 1001, 2001, 2001, 2001], doc.RootElement.EnumerateArray().Select(r => r.GetProperty("routerSeed").GetInt32()));
        Assert.All(doc.RootElement.EnumerateArray(), r => Assert.Equal(1, r.GetProperty("seed").GetInt32()));
        using JsonDocument plainDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "plain", "report.json")));
        Assert.All(plainDoc.RootElement.EnumerateArray(), r => Assert.False(r.TryGetProperty("routerSeed", out _)));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("33")]
    [InlineData("many")]
    public void A_router_seed_count_outside_1_to_32_is_a_usage_error(string count)
    {
        var error = new StringWriter();
        Assert.Equal(2, ReportRunner.Run(["--router-seeds", count], TextWriter.Null, error));
        Assert.Contains($"--router-seeds needs an integer from 1 to {ReportOptions.MaxRouterSeeds}, not '{count}'.", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Router_seeds_lie_a_stride_apart_from_the_scenario_seed()
    {
        Assert.Equal([3], ReportRunner.RouterSeeds(3, 1));
        Assert.Equal([3, 1003, 2003, 3003], ReportRunner.RouterSeeds(3, 4));
    }

    [Fact]
    public void Help_prints_the_usage()
    {
        var output = new StringWriter();
        Assert.Equal(0, ReportRunner.Run(["--help"], output, TextWriter.Null));
        Assert.Contains("--scenario <NAME|all|FILE>", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("--router-seeds <N>", output.ToString(), StringComparison.Ordinal);
    }
}
