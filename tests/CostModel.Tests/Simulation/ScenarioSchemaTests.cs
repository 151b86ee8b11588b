using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using CostModel.Testing.Simulation;
using Json.Schema;

namespace CostModel.Tests.Simulation;

/// <summary>
/// docs/scenario.schema.json: every built-in scenario is valid against it, and it agrees with the
/// loader on every property name of every object, so neither can drift from the other.
/// </summary>
public sealed class ScenarioSchemaTests
{
    private const string ResourcePrefix = "CostModel.Testing.Simulation.Scenarios.";

    private static readonly Lazy<string> SchemaText = new(() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "scenario.schema.json")));

    // Built once: the library registers a schema under its $id, and refuses to register it twice.
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(SchemaText.Value));

    public static TheoryData<string> BuiltInNames() => [.. Scenario.BuiltInNames];

    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void Every_built_in_scenario_is_valid_against_the_schema(string name)
    {
        string json = BuiltInText(name);
        EvaluationResults result = Evaluate(json);
        Assert.True(result.IsValid, $"{name}: {Errors(result)}");
    }

    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void What_Scenario_ToJson_writes_is_valid_against_the_schema(string name)
    {
        string json = Scenario.BuiltIn(name).ToJson();
        EvaluationResults result = Evaluate(json);
        Assert.True(result.IsValid, $"{name}: {Errors(result)}");
    }

    [Fact]
    public void A_scenario_using_every_new_part_of_the_format_is_valid_against_the_schema()
    {
        const string json = """
        {
          "name": "every-part", "durationSeconds": 60,
          "nodes": [
            { "id": "a", "models": [ { "id": "m" }, { "id": "big", "parameterBillions": 70 } ], "gpu": { "baseLoad": 0.1 },
              "gossip": { "delayMilliseconds": 2000, "lossShare": 0.2 }, "noise": { "cpuUtilization": 0.1, "batteryPercent": 1, "throttleRatio": 0 },
              "power": { "batteryWattHours": 50 } }
          ],
          "apis": [ { "id": "e", "model": "big", "price": "stale", "listedInputDollarsPerMillionTokens": 1, "listedOutputDollarsPerMillionTokens": 2, "parameterBillions": 70, "quantizationBits": 16 },
                    { "id": "f", "price": "unknown" } ],
          "workload": { "mix": [ { "model": "m", "share": 2, "excludeMetered": true }, { "model": "big", "urgency": "interactive", "minParameterBillions": 70, "maxDollarsPerRequest": 0.01, "conversationShare": 0 } ] },
          "events": [
            { "atSeconds": 1, "kind": "load", "node": "a", "value": 0.5 }, { "atSeconds": 2, "kind": "gpuLoad", "node": "a", "value": 0.5 },
            { "atSeconds": 3, "kind": "heat", "node": "a", "value": 1 }, { "atSeconds": 4, "kind": "throttle", "node": "a", "value": 0.3 },
            { "atSeconds": 5, "kind": "battery", "node": "a", "value": 30 }, { "atSeconds": 6, "kind": "charger", "node": "a", "value": 20 },
            { "atSeconds": 7, "kind": "price", "api": "e", "outputDollarsPerMillionTokens": 3 },
            { "atSeconds": 8, "kind": "gossipFreeze", "node": "a" }, { "atSeconds": 9, "kind": "gossipThaw", "node": "a" }
          ]
        }
        """;
        _ = Scenario.Parse(json);
        EvaluationResults result = Evaluate(json);
        Assert.True(result.IsValid, Errors(result));
    }

    [Theory]
    [InlineData("""{ "name": "x", "nodes": [] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "gossip": { "lossShare": 1 } } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "apis": [ { "id": "e", "price": "stale" } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "kind": "load", "node": "a", "value": 2 } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "costModel": { "routing": { "apiEndpoints": [] } } }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "colour": "red" } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "kind": 2, "node": "a" } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "llama-3.1-8b", "decodeTokensPerSecond": 1e-300 } ] } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "llama-3.1-8b", "quantizationBits": 0.5 } ] } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "network": { "rttMilliseconds": 1e308 } } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "apis": [ { "id": "e", "inputDollarsPerMillionTokens": 1e308 } ] }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "requestTimeoutSeconds": 7200 }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "workload": { "inputTokens": { "min": 1, "max": 1e308 } } }""")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "workload": { "requestsPerMinute": 1e308 } }""")]
    public void What_the_loader_refuses_the_schema_refuses_too(string json)
    {
        Assert.Throws<ScenarioException>(() => Scenario.Parse(json));
        Assert.False(Evaluate(json).IsValid);
    }

    [Theory]
    [InlineData(typeof(Scenario), "")]
    [InlineData(typeof(SimulatedNode), "node")]
    [InlineData(typeof(SimulatedModel), "model")]
    [InlineData(typeof(SimulatedPower), "power")]
    [InlineData(typeof(SimulatedThermal), "thermal")]
    [InlineData(typeof(SimulatedLink), "link")]
    [InlineData(typeof(SimulatedGossip), "gossip")]
    [InlineData(typeof(SimulatedNoise), "noise")]
    [InlineData(typeof(SimulatedGpu), "gpu")]
    [InlineData(typeof(SimulatedApi), "api")]
    [InlineData(typeof(Workload), "workload")]
    [InlineData(typeof(Burst), "burst")]
    [InlineData(typeof(RequestClass), "requestClass")]
    [InlineData(typeof(ScenarioEvent), "event")]
    [InlineData(typeof(ValueRange), "range")]
    public void The_schema_and_the_loader_agree_on_every_property_name(Type type, string definition)
    {
        JsonObject schema = JsonNode.Parse(SchemaText.Value)!.AsObject();
        JsonObject node = definition.Length == 0 ? schema : schema["$defs"]![definition]!.AsObject();
        string[] inSchema = [.. node["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal)];
        string[] inCode = [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))
            .Order(StringComparer.Ordinal)];
        Assert.Equal(inCode, inSchema);
        Assert.False(node["additionalProperties"]!.GetValue<bool>());
    }

    [Fact]
    public void The_schema_lists_every_event_kind()
    {
        JsonArray kinds = JsonNode.Parse(SchemaText.Value)!["$defs"]!["event"]!["properties"]!["kind"]!["enum"]!.AsArray();
        Assert.Equal(
            Enum.GetNames<ScenarioEventKind>().Select(JsonNamingPolicy.CamelCase.ConvertName).Order(StringComparer.Ordinal),
            kinds.Select(k => k!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    private static EvaluationResults Evaluate(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static string Errors(EvaluationResults result) => string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    private static string BuiltInText(string name)
    {
        using Stream stream = typeof(Scenario).Assembly.GetManifestResourceStream(ResourcePrefix + name + ".json")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
