using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
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

    /// <summary>Scenario names, file paths or <c>all</c>.</summary>
    public required IReadOnlyList<string> Scenarios { get; init; }

    /// <summary>The policies to run, in <see cref="RoutingPolicies.Ids"/> order.</summary>
    public required IReadOnlyList<string> Policies { get; init; }

    /// <summary>The seed.</summary>
    public int Seed { get; init; }

    /// <summary>The output folder.</summary>
    public required string OutDirectory { get; init; }

    /// <summary>The JSON report's path; null for <c>OutDirectory/report.json</c>.</summary>
    public string? JsonPath { get; init; }

    /// <summary>The memory budget, MiB (<see cref="MemoryBudget"/>); 0 for none.</summary>
    public int MemoryBudgetMebibytes { get; init; } = MemoryBudget.DefaultMebibytes;

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
            Description = "a built-in scenario, all of them (but the scale runs mesh-burst-100 and mesh-burst-500, named one by one), a generated mesh of N nodes (scale:N or scale:N:SECONDS), or a scenario JSON file; several separated by commas",
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
        var outDirectory = new Option<string>("--out") { Description = "where charts and report.md go", HelpName = "DIR", DefaultValueFactory = _ => DefaultOutDirectory };
        var json = new Option<string>("--json") { Description = "the JSON report (default DIR/report.json)", HelpName = "FILE" };
        Option<int> memoryBudget = CommandLineOptions.Integer(
            "--memory-budget",
            "MIB",
            "resident memory above which the runner collects and compacts its heap (a soft limit: it slows a larger run, never stops it); 0 for none",
            min: 0,
            defaultValue: MemoryBudget.DefaultMebibytes);
        var command = new RootCommand(Description) { scenario, policy, seed, outDirectory, json, memoryBudget };

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
            OutDirectory = parsed.GetRequiredValue(outDirectory),
            JsonPath = parsed.GetValue(json),
            MemoryBudgetMebibytes = parsed.GetValue(memoryBudget),
        };
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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
