using System.Text.Json;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation.Tests;

/// <summary>The report's <c>--gossip-interval</c> and <c>--gossip-mtu</c> (<see cref="GossipBudget"/>).</summary>
public sealed class GossipBudgetTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "costmodel-budget-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public void The_budget_replaces_what_the_scenario_said_whatever_its_case_and_keeps_the_rest()
    {
        Scenario s = Scenario.Parse("""
            { "name": "mine", "nodes": [ { "id": "a" } ],
              "costModel": { "scoring": { "batteryReserveFloorPercent": 15 }, "gossip": { "mtu": 2000, "INTERVAL": "00:00:01", "maxSilence": "00:00:04" } } }
            """);

        GossipBudget.With(s, intervalMilliseconds: 50, mtu: 4000);

        JsonElement section = s.CostModel!.Value;
        Assert.Equal(15, section.GetProperty("scoring").GetProperty("batteryReserveFloorPercent").GetInt32());
        JsonProperty gossip = Assert.Single(section.EnumerateObject(), p => p.Name.Equals("gossip", StringComparison.OrdinalIgnoreCase));
        var keys = gossip.Value.EnumerateObject().ToDictionary(p => p.Name.ToUpperInvariant(), p => p.Value);
        Assert.Equal(3, keys.Count);
        Assert.Equal(4000, keys["MTU"].GetInt32());
        Assert.Equal("00:00:00.0500000", keys["INTERVAL"].GetString());
        Assert.Equal("00:00:04", keys["MAXSILENCE"].GetString());

        // Only the MTU: the interval stays the scenario's; a scenario without a section gets one.
        Scenario plain = Scenario.Parse("""{ "name": "plain", "nodes": [ { "id": "a" } ] }""");
        GossipBudget.With(plain, intervalMilliseconds: 0, mtu: 9000);
        Assert.Equal(9000, plain.CostModel!.Value.GetProperty("Gossip").GetProperty("Mtu").GetInt32());
        Assert.False(plain.CostModel.Value.GetProperty("Gossip").TryGetProperty("Interval", out _));
    }

    [Fact]
    public void A_run_takes_the_budget_rounds_a_minute_apart_leave_each_node_to_itself()
    {
        // Rounds a minute apart: in the 10 s warm-up and the 30 s run no node hears the other, so
        // each router sends its requests to its own node; at the defaults the slow node's go to the
        // fast one, and the mesh's total is lower.
        string file = Path.Combine(_out, "two.json");
        Directory.CreateDirectory(_out);
        File.WriteAllText(file, """
            { "name": "two", "durationSeconds": 30, "workload": { "requestsPerMinute": 30 },
              "nodes": [ { "id": "slow", "models": [ { "id": "llama-3.1-8b", "decodeTokensPerSecond": 10 } ] },
                         { "id": "fast", "models": [ { "id": "llama-3.1-8b", "decodeTokensPerSecond": 80 } ] } ] }
            """);

        static double Total(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement[0].GetProperty("totalDollars").GetDouble();

        string usual = Path.Combine(_out, "usual.json");
        string unheard = Path.Combine(_out, "unheard.json");
        Assert.Equal(0, ReportRunner.Run(["--scenario", file, "--policy", "costmodel", "--out", _out, "--json", usual], TextWriter.Null, TextWriter.Null));
        Assert.Equal(0, ReportRunner.Run(["--scenario", file, "--policy", "costmodel", "--out", _out, "--json", unheard, "--gossip-interval", "60000"], TextWriter.Null, TextWriter.Null));
        Assert.True(Total(unheard) > 1.2 * Total(usual), $"{Total(unheard)} $ with rounds a minute apart, {Total(usual)} $ at the defaults");
    }

    [Fact]
    public void The_report_says_whether_the_mesh_gossip_kept_up_and_what_to_try_when_it_did_not()
    {
        string keptUp = MarkdownReport.GossipLine(new GossipSummary { Merged = 10_000, Late = 500, HeartbeatSeconds = 5 });
        Assert.Equal("gossip: 5.0 % of the 10,000 records merged (node states and capabilities) were states older than the 5 s heartbeat: the mesh's gossip keeps up.", keptUp);

        string behind = MarkdownReport.GossipLine(new GossipSummary { Merged = 10_000, Late = 501, HeartbeatSeconds = 5 });
        Assert.StartsWith("gossip: 5.0 % of the 10,000 records", behind, StringComparison.Ordinal);
        Assert.Contains("larger than its gossip's budget carries", behind, StringComparison.Ordinal);
        Assert.Contains("--gossip-interval 50", behind, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--gossip-interval", "5", "--gossip-interval takes 10 to 60000")]
    [InlineData("--gossip-interval", "-1", "--gossip-interval")]
    [InlineData("--gossip-mtu", "507", "--gossip-mtu takes 508 to 65507")]
    [InlineData("--gossip-mtu", "65508", "--gossip-mtu")]
    public void A_budget_outside_the_options_ranges_is_a_usage_error(string option, string value, string expected)
    {
        var error = new StringWriter();
        Assert.Equal(2, ReportRunner.Run(["--scenario", "home-mesh", option, value], TextWriter.Null, error));
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }
}
