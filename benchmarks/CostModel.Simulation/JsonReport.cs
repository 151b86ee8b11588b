using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>
/// The JSON report: an array with one object per scenario and policy, holding <c>scenario</c>,
/// <c>policy</c>, <c>seed</c> and every field of <see cref="SimulationMetrics"/> (camelCase, units in
/// the names). The metrics are written from the simulator's own record, so the report cannot drift
/// from it. A report over several router seeds (<c>--router-seeds</c>) holds every run, per
/// scenario the scenario seed's router seed first, and each object has a <c>routerSeed</c> after
/// <c>seed</c>; a plain report has no such field (the same file as before the option). A report over
/// several scenario seeds (<c>--seeds</c>) holds every run too, per scenario seed after seed, each
/// object with its own <c>seed</c>.
/// </summary>
internal static class JsonReport
{
    /// <summary>The report as indented JSON.</summary>
    /// <param name="scenarios">The results.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(IEnumerable<ScenarioResults> scenarios)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (ScenarioResults scenario in scenarios)
            {
                foreach (ScenarioResults s in (IEnumerable<ScenarioResults>)[scenario, .. scenario.OtherSeeds])
                {
                    bool spread = s.OtherRouterSeeds.Count > 0;
                    WriteRuns(writer, s.Results, spread ? s.Results[0].Seed : null);
                    foreach (RouterSeedResults other in s.OtherRouterSeeds)
                    {
                        WriteRuns(writer, other.Results, other.RouterSeed);
                    }
                }
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteRuns(Utf8JsonWriter writer, IReadOnlyList<SimulationResult> results, int? routerSeed)
    {
        foreach (SimulationResult r in results)
        {
            writer.WriteStartObject();
            writer.WriteString("scenario", r.Scenario);
            writer.WriteString("policy", r.Policy);
            writer.WriteNumber("seed", r.Seed);
            if (routerSeed is int value)
            {
                writer.WriteNumber("routerSeed", value);
            }

            JsonElement metrics = JsonSerializer.SerializeToElement(r.Metrics, ReportJsonContext.Default.SimulationMetrics);
            foreach (JsonProperty field in metrics.EnumerateObject())
            {
                field.WriteTo(writer);
            }

            writer.WriteEndObject();
        }
    }
}

/// <summary>Source-generated JSON for the report's metrics (camelCase, nulls written).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SimulationMetrics))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
