using System.Text.Json;
using System.Text.Json.Serialization;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>One scenario and policy in the JSON report: the metrics flattened, units in the names.</summary>
internal sealed record ReportRow
{
    public required string Scenario { get; init; }
    public required string Policy { get; init; }
    public required int Seed { get; init; }
    public double P50LatencySeconds { get; init; }
    public double P95LatencySeconds { get; init; }
    public double P99LatencySeconds { get; init; }
    public double MeanLatencySeconds { get; init; }
    public int Requests { get; init; }
    public int CompletedRequests { get; init; }
    public int FailedRequests { get; init; }
    public double BatteryWattHoursDrained { get; init; }
    public int BatteryFloorViolations { get; init; }
    public double ApiDollars { get; init; }
    public double MaxRouterApiDollars { get; init; }
    public int ApiRequests { get; init; }
    public double MeteredGigabytes { get; init; }
    public int RouteFlaps { get; init; }
    public int AffinityFollowUps { get; init; }

    /// <summary>The largest share of a burst one mesh node received, as a multiple of the fair share; null without bursts.</summary>
    public double? MaxBurstShare { get; init; }

    public double? UnplugReactionSeconds { get; init; }
}

/// <summary>The JSON report: an array with one object per scenario and policy.</summary>
internal static class JsonReport
{
    /// <summary>Flattens one result.</summary>
    /// <param name="r">The result.</param>
    /// <returns>The row.</returns>
    public static ReportRow Row(SimulationResult r)
    {
        SimulationMetrics m = r.Metrics;
        return new ReportRow
        {
            Scenario = r.Scenario,
            Policy = r.Policy,
            Seed = r.Seed,
            P50LatencySeconds = m.P50LatencySeconds,
            P95LatencySeconds = m.P95LatencySeconds,
            P99LatencySeconds = m.P99LatencySeconds,
            MeanLatencySeconds = m.MeanLatencySeconds,
            Requests = m.Requests,
            CompletedRequests = m.CompletedRequests,
            FailedRequests = m.FailedRequests,
            BatteryWattHoursDrained = m.BatteryWattHoursDrained,
            BatteryFloorViolations = m.BatteryFloorViolations,
            ApiDollars = m.ApiDollars,
            MaxRouterApiDollars = m.MaxRouterApiDollars,
            ApiRequests = m.ApiRequests,
            MeteredGigabytes = m.MeteredGigabytes,
            RouteFlaps = m.RouteFlaps,
            AffinityFollowUps = m.AffinityFollowUps,
            MaxBurstShare = m.MaxBurstShare,
            UnplugReactionSeconds = m.UnplugReactionSeconds,
        };
    }

    /// <summary>The report as indented JSON.</summary>
    /// <param name="scenarios">The results.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(IEnumerable<ScenarioResults> scenarios)
    {
        ReportRow[] rows = [.. scenarios.SelectMany(s => s.Results).Select(Row)];
        return JsonSerializer.Serialize(rows, ReportJsonContext.Default.ReportRowArray);
    }
}

/// <summary>Source-generated JSON for the report (camelCase, nulls written).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ReportRow[]))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
