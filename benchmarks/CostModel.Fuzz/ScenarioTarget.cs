using System.Globalization;
using System.Text;
using CostModel.Testing.Simulation;

namespace CostModel.Fuzz;

/// <summary>
/// The simulator's scenario loader and the simulator itself (<see cref="Scenario.Parse"/>,
/// <see cref="MeshSimulator.Run(Scenario, string, int)"/>) on scenario files a user writes or takes
/// from anywhere: each input, read as UTF-8, is parsed as a scenario; one the loader accepts is made
/// cheap (<see cref="Shrink"/>) and run under two policies at a fixed seed.
/// </summary>
/// <remarks>
/// Invariants (each broken one throws <see cref="InvariantViolationException"/>): the loader refuses
/// a scenario only with a <see cref="ScenarioException"/> (which names the field), never another
/// exception; a scenario it accepted runs, or is refused by the run with a
/// <see cref="ScenarioException"/> (a <c>costModel</c> section the nodes cannot bind), never another
/// exception; and the result of a run holds what any run's must (<see cref="ScenarioRunChecks.CheckResult"/>):
/// completed plus failed requests are the requests and the result lists each; API requests, battery-floor
/// violations and flaps within their totals; every dollar figure, latency, energy and traffic figure
/// finite and not negative; the total the sum of its parts; no router paying more than the mesh;
/// percentiles in order; every request's latency finite and not negative, a succeeded one with a
/// target; every battery sample within 0 to 100 %; and the result writes as JSON. A hang (AFL's 2 s
/// timeout) is a finding too: an accepted scenario must not run forever.
/// <para>
/// A run is kept cheap so that one input takes well under AFL's timeout: at most
/// <see cref="MaxDurationSeconds"/> of run and <see cref="MaxWarmupSeconds"/> of warm-up,
/// <see cref="MaxRequestsPerMinute"/> per router, the first <see cref="MaxBursts"/> bursts of at most
/// <see cref="MaxBurstRequestsPerRouter"/> requests each, and the first <see cref="MaxNodes"/> nodes,
/// <see cref="MaxApis"/> APIs and <see cref="MaxEvents"/> events, the references to what was dropped
/// removed (routers, burst routers, partition sides, events of a dropped node or API). A scenario
/// that shrinking makes invalid (a request class whose model only a dropped node serves) is not run:
/// <see cref="Describe"/> says so.
/// </para>
/// </remarks>
internal sealed class ScenarioTarget : IFuzzTarget
{
    /// <summary>20 s of run after the warm-up: an unplug, a burst and a few gossip rounds fit.</summary>
    public const double MaxDurationSeconds = 20;

    /// <summary>2 s of warm-up: ten gossip rounds at the default 200 ms.</summary>
    public const double MaxWarmupSeconds = 2;

    /// <summary>8 nodes: every built-in scenario but the scale ones has at most 8.</summary>
    public const int MaxNodes = 8;

    /// <summary>4 API endpoints.</summary>
    public const int MaxApis = 4;

    /// <summary>32 events.</summary>
    public const int MaxEvents = 32;

    /// <summary>120 requests a minute per router: 40 per router in the 20 s.</summary>
    public const double MaxRequestsPerMinute = 120;

    /// <summary>4 bursts.</summary>
    public const int MaxBursts = 4;

    /// <summary>25 requests per router per burst.</summary>
    public const int MaxBurstRequestsPerRouter = 25;

    /// <summary>The fixed seed of every run.</summary>
    public const int Seed = 1;

    /// <summary>The policies every accepted scenario runs under: the library's router and a baseline that ignores every factor.</summary>
    public static readonly IReadOnlyList<string> Policies = [RoutingPolicies.CostModel, RoutingPolicies.RoundRobin];

    private string _last = "";

    /// <inheritdoc />
    public long Inputs { get; private set; }

    /// <summary>Makes a scenario cheap to run in place (the limits above), keeping it valid where it can.</summary>
    /// <param name="scenario">An accepted scenario.</param>
    /// <returns>True when anything was cut.</returns>
    public static bool Shrink(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        bool cut = false;
        double Cap(double value, double max)
        {
            cut |= value > max;
            return Math.Min(value, max);
        }

        scenario.DurationSeconds = Cap(scenario.DurationSeconds, MaxDurationSeconds);
        scenario.WarmupSeconds = Cap(scenario.WarmupSeconds, MaxWarmupSeconds);
        // The loader takes null for a list (validation reads it as empty); left null here, so the run
        // meets what the loader accepted.
        if (scenario.Nodes is { Count: > MaxNodes })
        {
            scenario.Nodes = [.. scenario.Nodes.Take(MaxNodes)];
            cut = true;
        }

        if (scenario.Apis is { Count: > MaxApis })
        {
            scenario.Apis = [.. scenario.Apis.Take(MaxApis)];
            cut = true;
        }

        var nodes = new HashSet<string>((scenario.Nodes ?? []).Select(n => n.Id), StringComparer.Ordinal);
        var apis = new HashSet<string>((scenario.Apis ?? []).Select(a => a.Id), StringComparer.Ordinal);
        if (scenario.Workload is { } w)
        {
            w.RequestsPerMinute = Cap(w.RequestsPerMinute, MaxRequestsPerMinute);
            if (w.Routers is not null)
            {
                w.Routers = [.. w.Routers.Where(nodes.Contains)];
            }

            if (w.Bursts is { Count: > MaxBursts })
            {
                w.Bursts = [.. w.Bursts.Take(MaxBursts)];
                cut = true;
            }

            foreach (Burst b in w.Bursts ?? [])
            {
                b.RequestsPerRouter = (int)Cap(b.RequestsPerRouter, MaxBurstRequestsPerRouter);
                if (b.Routers is not null)
                {
                    b.Routers = [.. b.Routers.Where(nodes.Contains)];
                }
            }
        }

        if (scenario.Events is null)
        {
            return cut;
        }

        int events = scenario.Events.Count;
        scenario.Events = [.. scenario.Events.Where(e => e.Kind switch
        {
            ScenarioEventKind.Heal => true,
            ScenarioEventKind.Partition => (e.Nodes = [.. (e.Nodes ?? []).Where(nodes.Contains)]).Count > 0,
            ScenarioEventKind.Price => e.Api is not null && apis.Contains(e.Api),
            _ => e.Node is not null && nodes.Contains(e.Node),
        }).Take(MaxEvents)];
        return cut | scenario.Events.Count != events;
    }

    /// <inheritdoc />
    public bool Run(ReadOnlySpan<byte> input)
    {
        Inputs++;
        string json = Encoding.UTF8.GetString(input);
        if (!ScenarioRunChecks.TryStep(() => Scenario.Parse(json, "fuzz"), "Scenario.Parse", json, out Scenario? scenario, out string? refusal))
        {
            _last = "refused: " + refusal;
            return false;
        }

        bool shrunk = Shrink(scenario);
        try
        {
            scenario.Validate("fuzz, shrunk");
        }
        catch (ScenarioException ex)
        {
            _last = "accepted, not run: too large, and shrinking it makes it invalid: " + ex.Message;
            return true;
        }

        var ran = new List<string>();
        foreach (string policy in Policies)
        {
            if (!ScenarioRunChecks.TryStep(() => MeshSimulator.Run(scenario, policy, Seed), $"MeshSimulator.Run ({policy})", json, out SimulationResult? result, out string? runRefusal))
            {
                _last = $"accepted, refused by the run ({policy}): {runRefusal}";
                return true;
            }

            ScenarioRunChecks.CheckResult(result, json);
            SimulationMetrics m = result.Metrics;
            ran.Add(string.Create(CultureInfo.InvariantCulture, $"{policy}: {m.CompletedRequests}/{m.Requests} completed, {m.TotalDollars} $"));
        }

        _last = $"accepted{(shrunk ? " (shrunk)" : "")}, ran: {string.Join("; ", ran)}";
        return true;
    }

    /// <inheritdoc />
    public string Describe(bool result) => _last;

    /// <inheritdoc />
    public void Dispose()
    {
        // Nothing held.
    }
}
