using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text.Json;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>The results of every policy on one scenario, in policy order.</summary>
/// <param name="Scenario">The scenario (a copy; read only).</param>
/// <param name="Results">One result per policy, in <see cref="RoutingPolicies.Ids"/> order, the routers' draws seeded by the scenario seed.</param>
internal sealed record ScenarioResults(Scenario Scenario, IReadOnlyList<SimulationResult> Results)
{
    /// <summary>
    /// The runs with the other router seeds (<c>--router-seeds</c>), in their order, each one result
    /// per policy in the order of <see cref="Results"/>; empty for a plain report.
    /// </summary>
    public IReadOnlyList<RouterSeedResults> OtherRouterSeeds { get; init; } = [];

    /// <summary>
    /// The same scenario at the other scenario seeds (<c>--seeds</c>), in their order, each with its
    /// own router seeds; empty for a plain report.
    /// </summary>
    public IReadOnlyList<ScenarioResults> OtherSeeds { get; init; } = [];

    /// <summary>The result of a policy, or null when it was not run.</summary>
    /// <param name="policy">The policy id.</param>
    /// <returns>The result or null.</returns>
    public SimulationResult? Of(string policy) => Results.FirstOrDefault(r => r.Policy == policy);
}

/// <summary>The results of every policy on one scenario with one router seed.</summary>
/// <param name="RouterSeed">The router seed (<see cref="MeshSimulator.Run(Scenario, string, int, int)"/>).</param>
/// <param name="Results">One result per policy, in the order of <see cref="ScenarioResults.Results"/>.</param>
internal sealed record RouterSeedResults(int RouterSeed, IReadOnlyList<SimulationResult> Results);

/// <summary>Runs the report: simulations in parallel, then markdown to the console and a file, JSON, and charts.</summary>
internal static class ReportRunner
{
    /// <summary>Runs the command line.</summary>
    /// <param name="args">The arguments (see <see cref="ReportOptions.Parse"/>, or run with <c>--help</c>).</param>
    /// <param name="output">Where the markdown goes.</param>
    /// <param name="error">Where errors go.</param>
    /// <returns>The exit code: 0 on success, 2 for a bad command line or scenario.</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (ReportOptions.Parse(args, output, error, out int exitCode) is not { } options)
        {
            return exitCode;
        }

        List<(string Name, Func<Scenario> Create)> scenarios;
        try
        {
            scenarios = [.. ResolveScenarios(options.Scenarios).Select(s => (s.Name, GossipBudget.Apply(s.Create, options.GossipIntervalMilliseconds, options.GossipMtu)))];
        }
        catch (Exception e) when (e is ArgumentException or ScenarioException or IOException)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }

        var clock = Stopwatch.StartNew();
        IReadOnlyList<ScenarioResults> results;
        using (MemoryBudget? budget = MemoryBudget.Start(options.MemoryBudgetMebibytes, TimeProvider.System))
        {
            try
            {
                results = Simulate(scenarios, options.Policies, Seeds(options.Seed, options.SeedCount), options.RouterSeedCount);
            }
            catch (AggregateException e) when (e.InnerExceptions.OfType<ScenarioException>().FirstOrDefault() is { } refused)
            {
                // A scenario the library's options refuse when a node is built (its costModel section): an error, not a crash.
                error.WriteLine($"error: {refused.Message}");
                return 2;
            }
            if (budget is { Collections: > 0 })
            {
                // The error stream, as the collector's summary: the report stays the same for a seed.
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Memory budget {budget.Mebibytes} MiB: {budget.Collections} full compacting collections."));
            }
        }

        TimeSpan simulated = clock.Elapsed;

        Directory.CreateDirectory(options.OutDirectory);
        var charts = new List<string>();
        foreach (ScenarioResults scenario in results)
        {
            string path = Path.Combine(options.OutDirectory, ChartWriter.FileName(scenario.Scenario.Name));
            ChartWriter.Write(scenario, path);
            charts.Add(path);
        }

        string jsonPath = options.JsonPath ?? Path.Combine(options.OutDirectory, "report.json");
        string? jsonDirectory = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
        if (jsonDirectory is not null)
        {
            Directory.CreateDirectory(jsonDirectory);
        }

        File.WriteAllText(jsonPath, JsonReport.Serialize(results));

        TimeSpan total = clock.Elapsed;
        string markdown = MarkdownReport.Write(results, options.Seed)
            + string.Create(CultureInfo.InvariantCulture, $"Wall time: {total.TotalSeconds:0.0} s ({simulated.TotalSeconds:0.0} s simulating {results.Sum(r => r.Results.Count * (1 + r.OtherSeeds.Count) * (1 + r.OtherRouterSeeds.Count))} runs on {Environment.ProcessorCount} cores, the rest charts and files).\n");
        File.WriteAllText(Path.Combine(options.OutDirectory, "report.md"), markdown);
        output.Write(markdown);
        output.WriteLine();
        output.WriteLine($"JSON: {jsonPath}");
        output.WriteLine($"Charts: {string.Join(", ", charts)}");
        return 0;
    }

    /// <summary>
    /// 1000: the report's router seeds lie this far apart. Each node's draws are seeded from the
    /// router seed and the node's position (<c>routerSeed x 31 + i</c> for the baseline policies,
    /// <c>routerSeed + 7919 (i + 1)</c> for the library router), so router seeds 1 apart would hand
    /// node i's stream to node i + 31; 1000 apart, no two nodes share one in a mesh under 31,000
    /// nodes with up to <see cref="ReportOptions.MaxRouterSeeds"/> router seeds (7919 is prime), and
    /// the seeds stay readable (1, 1001, 2001...).
    /// </summary>
    internal const int RouterSeedStride = 1000;

    /// <summary>The router seeds of a report: the scenario seed, then others <see cref="RouterSeedStride"/> apart.</summary>
    /// <param name="seed">The scenario seed.</param>
    /// <param name="count">How many (at least 1).</param>
    /// <returns>The router seeds, <paramref name="seed"/> first.</returns>
    internal static int[] RouterSeeds(int seed, int count) =>
        [.. Enumerable.Range(0, count).Select(k => unchecked(seed + (k * RouterSeedStride)))];

    /// <summary>The scenario seeds of a report: the seed and the <paramref name="count"/> - 1 after it.</summary>
    /// <param name="seed">The first seed.</param>
    /// <param name="count">How many (at least 1).</param>
    /// <returns>The seeds, <paramref name="seed"/> first.</returns>
    internal static int[] Seeds(int seed, int count) =>
        [.. Enumerable.Range(0, count).Select(k => unchecked(seed + k))];

    /// <summary>
    /// The built-in scenarios left out of <c>all</c>, named one by one instead: the larger meshes of
    /// the burst scenario, for scale runs (every policy on 100 and 500 routing nodes takes minutes to
    /// hours on two cores; <c>mesh-burst-48</c> stays in).
    /// </summary>
    internal static readonly string[] ScaleRuns = ["gateway-burst-100", "mesh-burst-100", "mesh-burst-500"];

    /// <summary>
    /// The collector's share of the process so far (the command line writes it to the error stream
    /// after a report, so the report stays the same for a seed): collections per generation, pause
    /// time, bytes allocated and the heap after the last collection, for comparing runtime settings
    /// (docs/simulation.md, "Scale").
    /// </summary>
    internal static string CollectorSummary()
    {
        GCMemoryInfo last = GC.GetGCMemoryInfo(GCKind.Any);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"Collector: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections; paused {GC.GetTotalPauseDuration().TotalSeconds:0.0} s; allocated {GC.GetTotalAllocatedBytes() / 1e6:0} MB; heap after the last {last.HeapSizeBytes / 1e6:0} MB ({(GCSettings.IsServerGC ? "server" : "workstation")}, {(GCSettings.LatencyMode == System.Runtime.GCLatencyMode.Batch ? "not concurrent" : GCSettings.LatencyMode.ToString())}).");
    }

    private static List<(string Name, Func<Scenario> Create)> ResolveScenarios(IReadOnlyList<string> names)
    {
        var scenarios = new List<(string, Func<Scenario>)>();
        foreach (string name in names)
        {
            if (name == "all")
            {
                scenarios.AddRange(Scenario.BuiltInNames.Except(ScaleRuns).Select(n => (n, (Func<Scenario>)(() => Scenario.BuiltIn(n)))));
            }
            else if (Scenario.BuiltInNames.Contains(name))
            {
                scenarios.Add((name, () => Scenario.BuiltIn(name)));
            }
            else if (ScaleScenario.TryParse(name) is not null)
            {
                // Generated (see ScaleScenario): scale:NODES or scale:NODES:SECONDS.
                scenarios.Add((name, () => ScaleScenario.TryParse(name)!));
            }
            else if (File.Exists(name))
            {
                // Read once; every run parses its own copy (runs go in parallel).
                string json = File.ReadAllText(name);
                Scenario.Parse(json, name);
                scenarios.Add((name, () => Scenario.Parse(json, name)));
            }
            else
            {
                throw new ArgumentException($"'{name}' is neither a built-in scenario ({string.Join(", ", Scenario.BuiltInNames)}), a generated one (scale:NODES[:SECONDS]) nor a file.");
            }
        }

        return scenarios;
    }

    private static ScenarioResults[] Simulate(List<(string Name, Func<Scenario> Create)> scenarios, IReadOnlyList<string> policies, int[] seeds, int routerSeedCount)
    {
        int[][] routerSeeds = [.. seeds.Select(seed => RouterSeeds(seed, routerSeedCount))];
        var jobs = (
            from s in Enumerable.Range(0, scenarios.Count)
            from k in Enumerable.Range(0, seeds.Length)
            from r in Enumerable.Range(0, routerSeedCount)
            from p in Enumerable.Range(0, policies.Count)
            select (s, k, r, p)).ToArray();
        var results = new SimulationResult[scenarios.Count, seeds.Length, routerSeedCount, policies.Count];
        Parallel.ForEach(
            jobs,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            job => results[job.s, job.k, job.r, job.p] = MeshSimulator.Run(scenarios[job.s].Create(), policies[job.p], seeds[job.k], routerSeeds[job.k][job.r]));
        SimulationResult[] Row(int s, int k, int r) => [.. Enumerable.Range(0, policies.Count).Select(p => results[s, k, r, p])];
        ScenarioResults AtSeed(int s, int k) => new(scenarios[s].Create(), Row(s, k, 0))
        {
            OtherRouterSeeds = [.. Enumerable.Range(1, routerSeedCount - 1).Select(r => new RouterSeedResults(routerSeeds[k][r], Row(s, k, r)))],
        };
        return [.. Enumerable.Range(0, scenarios.Count).Select(s => AtSeed(s, 0) with
        {
            OtherSeeds = [.. Enumerable.Range(1, seeds.Length - 1).Select(k => AtSeed(s, k))],
        })];
    }
}
