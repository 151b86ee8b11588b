using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using CostModel.Gossip;
using CostModel.Samples;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>The command line of the decision-quality report.</summary>
internal sealed record ReportOptions
{
    /// <summary>The default output folder.</summary>
    public const string DefaultOutDirectory = "artifacts/simulation";

    private const string Description = """
        Decision-quality report: runs routing policies on the mesh simulator's scenarios.
        Run it with: dotnet run -c Release --project benchmarks/CostModel.Simulation -- [options]
        """;

    /// <summary>1 router seed, the scenario seed itself: the report of a plain run.</summary>
    public const int DefaultRouterSeeds = 1;

    /// <summary>
    /// At most 32 router seeds: every one reruns every scenario and policy (<c>--scenario all</c>
    /// took 24 to 60 s a router seed on two cores, 2026-12-06, so 32 of them 13 to 32 minutes), and
    /// 32 already give the mean to about a sixth of one run's standard deviation (1/sqrt(32)). More
    /// is most likely a typo.
    /// </summary>
    public const int MaxRouterSeeds = 32;

    /// <summary>1 scenario seed, <see cref="Seed"/> itself: the report of a plain run.</summary>
    public const int DefaultSeeds = 1;

    /// <summary>
    /// At most 32 scenario seeds, for the reason of <see cref="MaxRouterSeeds"/>: every one reruns
    /// every scenario and policy, and 32 give a mean difference to about a sixth of one seed's spread.
    /// </summary>
    public const int MaxSeeds = 32;

    /// <summary>Scenario names, file paths or <c>all</c>.</summary>
    public required IReadOnlyList<string> Scenarios { get; init; }

    /// <summary>The policies to run, in <see cref="RoutingPolicies.Ids"/> order.</summary>
    public required IReadOnlyList<string> Policies { get; init; }

    /// <summary>The seed.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// How many scenario seeds each scenario and policy runs with (<see cref="ReportRunner.Seeds"/>):
    /// the first is <see cref="Seed"/>, the report's tables and goals; more add a section across the
    /// seeds (<see cref="SeedSummary"/>).
    /// </summary>
    public int SeedCount { get; init; } = DefaultSeeds;

    /// <summary>
    /// How many router seeds each scenario and policy runs with (<see cref="ReportRunner.RouterSeeds"/>):
    /// the first is <see cref="Seed"/>, the report's tables and goals; more add a spread table.
    /// </summary>
    public int RouterSeedCount { get; init; } = DefaultRouterSeeds;

    /// <summary>The output folder.</summary>
    public required string OutDirectory { get; init; }

    /// <summary>The JSON report's path; null for <c>OutDirectory/report.json</c>.</summary>
    public string? JsonPath { get; init; }

    /// <summary>The memory budget, MiB (<see cref="MemoryBudget"/>); 0 for none.</summary>
    public int MemoryBudgetMebibytes { get; init; } = MemoryBudget.DefaultMebibytes;

    /// <summary>
    /// The gossip round every scenario runs with, milliseconds (its <c>costModel.gossip.interval</c>
    /// replaced, <see cref="GossipBudget"/>); 0 for each scenario's own.
    /// </summary>
    public int GossipIntervalMilliseconds { get; init; }

    /// <summary>The largest gossip message every scenario runs with, bytes (its <c>costModel.gossip.mtu</c> replaced); 0 for each scenario's own.</summary>
    public int GossipMtu { get; init; }

    /// <summary>Parses the command line; answers <c>--help</c> and usage errors itself.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Where the help goes.</param>
    /// <param name="error">Where usage errors go.</param>
    /// <param name="exitCode">The code to exit with when the result is null: 0 after the help, 2 after a usage error.</param>
    /// <returns>The options, or null when the program should end.</returns>
    public static ReportOptions? Parse(IReadOnlyList<string> args, TextWriter output, TextWriter error, out int exitCode)
    {
        ArgumentNullException.ThrowIfNull(args);
        var scenario = new Option<string>("--scenario")
        {
            Description = "a built-in scenario, all of them (but the scale runs gateway-burst-100, mesh-burst-100 and mesh-burst-500, named one by one), a generated mesh of N nodes (scale:N or scale:N:SECONDS), or a scenario JSON file; several separated by commas",
            HelpName = "NAME|all|FILE",
            DefaultValueFactory = _ => "all",
        };
        scenario.Validators.Add(result => NotEmpty(result.GetValueOrDefault<string>(), "--scenario", result.AddError));
        scenario.CompletionSources.Add(["all", .. Scenario.BuiltInNames]);
        var policy = new Option<string>("--policy")
        {
            Description = $"only these policies (default: all, costmodel first, oracle last): {string.Join(", ", RoutingPolicies.Ids)}",
            HelpName = "ID[,ID...]",
        };
        policy.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (NotEmpty(value, "--policy", result.AddError) && Split(value).FirstOrDefault(id => !RoutingPolicies.Ids.Contains(id)) is { } unknown)
            {
                result.AddError($"Unknown policy '{unknown}'; known: {string.Join(", ", RoutingPolicies.Ids)}.");
            }
        });
        policy.CompletionSources.Add([.. RoutingPolicies.Ids]);
        Option<int> seed = CommandLineOptions.Integer("--seed", "N", "the seed", defaultValue: 1);
        Option<int> seeds = CommandLineOptions.Integer(
            "--seeds",
            "N",
            "run each scenario and policy with N seeds (the seed and the N - 1 after it), each its own workload, truth and draws; the tables and goals stay the first seed's, a section across the seeds follows each scenario (mean, min to max; each goal's count of seeds met; costmodel's total against the best baseline's, with a 95 % interval)",
            min: 1,
            max: MaxSeeds,
            defaultValue: DefaultSeeds);
        Option<int> routerSeeds = CommandLineOptions.Integer(
            "--router-seeds",
            "N",
            "run each scenario and policy with N router seeds (the seed, then others 1000 apart): the same workload and truth, only the routers' random draws reshuffled; the tables and goals stay the first's, a spread table (mean, min to max) follows each scenario",
            min: 1,
            max: MaxRouterSeeds,
            defaultValue: DefaultRouterSeeds);
        var outDirectory = new Option<string>("--out") { Description = "where charts and report.md go", HelpName = "DIR", DefaultValueFactory = _ => DefaultOutDirectory };
        var json = new Option<string>("--json") { Description = "the JSON report (default DIR/report.json)", HelpName = "FILE" };
        Option<int> memoryBudget = CommandLineOptions.Integer(
            "--memory-budget",
            "MIB",
            "resident memory above which the runner collects and compacts its heap (a soft limit: it slows a larger run, never stops it); 0 for none",
            min: 0,
            defaultValue: MemoryBudget.DefaultMebibytes);
        Option<int> gossipInterval = CommandLineOptions.Integer(
            "--gossip-interval",
            "MS",
            "every scenario's gossip round, milliseconds, 10 to 60000 (its costModel.gossip.interval replaced): a larger mesh needs a shorter one (docs/gossip-wire-format.md); 0 for each scenario's own",
            defaultValue: 0);
        Option<int> gossipMtu = CommandLineOptions.Integer(
            "--gossip-mtu",
            "BYTES",
            "every scenario's largest gossip message, bytes, 508 to 65507 (its costModel.gossip.mtu replaced); 0 for each scenario's own",
            defaultValue: 0);
        gossipInterval.Validators.Add(result => ZeroOrWithin(result.GetValueOrDefault<int>(), "--gossip-interval", GossipBudget.MinIntervalMilliseconds, GossipBudget.MaxIntervalMilliseconds, "CostModel:Gossip:Interval's range, milliseconds", result.AddError));
        gossipMtu.Validators.Add(result => ZeroOrWithin(result.GetValueOrDefault<int>(), "--gossip-mtu", GossipDefaults.MinMtu, GossipDefaults.MaxMtu, "CostModel:Gossip:Mtu's range, bytes", result.AddError));
        var command = new RootCommand(Description) { scenario, policy, seed, seeds, routerSeeds, outDirectory, json, memoryBudget, gossipInterval, gossipMtu };

        if (CommandLineOptions.Parse(command, args, out exitCode, output, error) is not { } parsed)
        {
            return null;
        }

        string[]? wanted = parsed.GetValue(policy) is { } list ? Split(list) : null;
        return new ReportOptions
        {
            Scenarios = Split(parsed.GetRequiredValue(scenario)),
            // Always in RoutingPolicies.Ids order, whatever order they were named in.
            Policies = wanted is null ? RoutingPolicies.Ids : [.. RoutingPolicies.Ids.Where(wanted.Contains)],
            Seed = parsed.GetValue(seed),
            SeedCount = parsed.GetValue(seeds),
            RouterSeedCount = parsed.GetValue(routerSeeds),
            OutDirectory = parsed.GetRequiredValue(outDirectory),
            JsonPath = parsed.GetValue(json),
            MemoryBudgetMebibytes = parsed.GetValue(memoryBudget),
            GossipIntervalMilliseconds = parsed.GetValue(gossipInterval),
            GossipMtu = parsed.GetValue(gossipMtu),
        };
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // The gossip options' own ranges, checked here (one check for both ends, so the message names the
    // range) so that a bad value is a usage error, not a run that fails.
    private static void ZeroOrWithin(int value, string name, int min, int max, string range, Action<string> addError)
    {
        if (value != 0 && (value < min || value > max))
        {
            addError(string.Create(CultureInfo.InvariantCulture, $"{name} takes {min} to {max} ({range}), or 0 for each scenario's own; not {value}."));
        }
    }

    private static bool NotEmpty([NotNullWhen(true)] string? value, string name, Action<string> addError)
    {
        if (value is null || Split(value).Length == 0)
        {
            addError($"{name} needs at least one name, not an empty list.");
            return false;
        }

        return true;
    }
}
