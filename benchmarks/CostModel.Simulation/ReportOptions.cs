using System.Globalization;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>The command line of the decision-quality report.</summary>
internal sealed record ReportOptions
{
    /// <summary>The default output folder.</summary>
    public const string DefaultOutDirectory = "artifacts/simulation";

    /// <summary>What <c>--help</c> prints.</summary>
    public const string Usage = """
        Decision-quality report: runs routing policies on the mesh simulator's scenarios.

        usage: dotnet run -c Release --project benchmarks/CostModel.Simulation -- [options]

          --scenario NAME|all|FILE   a built-in scenario, all of them (default), or a scenario JSON file;
                                     several separated by commas
          --policy ID[,ID...]        only these policies (default: all, costmodel first, oracle last)
          --seed N                   the seed (default 1)
          --out DIR                  where charts and report.md go (default artifacts/simulation)
          --json FILE                the JSON report (default DIR/report.json)
          --help                     this text

        policies: costmodel, round-robin, random, least-in-flight, p2c, greedy-original,
                  litellm-latency, litellm-cost, oracle
        """;

    /// <summary>Scenario names, file paths or <c>all</c>.</summary>
    public IReadOnlyList<string> Scenarios { get; init; } = ["all"];

    /// <summary>The policies to run, in <see cref="RoutingPolicies.Ids"/> order.</summary>
    public IReadOnlyList<string> Policies { get; init; } = RoutingPolicies.Ids;

    /// <summary>The seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The output folder.</summary>
    public string OutDirectory { get; init; } = DefaultOutDirectory;

    /// <summary>The JSON report's path; null for <c>OutDirectory/report.json</c>.</summary>
    public string? JsonPath { get; init; }

    /// <summary>True when <c>--help</c> was asked for.</summary>
    public bool Help { get; init; }

    /// <summary>Parses the command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An argument is unknown, lacks its value or is invalid.</exception>
    public static ReportOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new ReportOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    options = options with { Help = true };
                    break;
                case "--scenario":
                    options = options with { Scenarios = SplitList(Value(args, ref i)) };
                    break;
                case "--policy":
                    options = options with { Policies = ParsePolicies(Value(args, ref i)) };
                    break;
                case "--seed":
                    string seed = Value(args, ref i);
                    if (!int.TryParse(seed, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
                    {
                        throw new ArgumentException($"--seed needs an integer, not '{seed}'.");
                    }

                    options = options with { Seed = n };
                    break;
                case "--out":
                    options = options with { OutDirectory = Value(args, ref i) };
                    break;
                case "--json":
                    options = options with { JsonPath = Value(args, ref i) };
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{arg}' (see --help).");
            }
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{args[i]} needs a value (see --help).");
        }

        i++;
        return args[i];
    }

    private static string[] SplitList(string value)
    {
        string[] items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Length == 0 ? throw new ArgumentException("An empty list was given.") : items;
    }

    private static List<string> ParsePolicies(string value)
    {
        string[] wanted = SplitList(value);
        foreach (string id in wanted)
        {
            if (!RoutingPolicies.Ids.Contains(id))
            {
                throw new ArgumentException($"Unknown policy '{id}'; known: {string.Join(", ", RoutingPolicies.Ids)}.");
            }
        }

        return [.. RoutingPolicies.Ids.Where(wanted.Contains)];
    }
}
