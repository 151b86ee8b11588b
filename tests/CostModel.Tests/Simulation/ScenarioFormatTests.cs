using System.Text.Json;
using CostModel.Factors;
using CostModel.Testing.Gossip;
using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>
/// The scenario format as a user's what-if tool: per-node gossip, noise, setting events, several
/// models with a request mix, API prices known, stale or unknown, and the refusals of scenarios
/// that contradict themselves.
/// </summary>
public sealed class ScenarioFormatTests
{
    private const int Seed = 5;
    private const string Model = SimulationDefaults.Model;
    /// <summary>The built-in 48-node mesh for a short run, with its gossip round set (null: the default).</summary>
    private static Scenario MeshBurst48(double seconds, string? interval)
    {
        Scenario s = Scenario.BuiltIn("mesh-burst-48");
        s.DurationSeconds = seconds;
        if (interval is not null)
        {
            s.CostModel = JsonDocument.Parse($$"""{ "Gossip": { "Interval": "{{interval}}" } }""").RootElement.Clone();
        }

        return s;
    }

    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "costModel": { "Routing": { "ApiEndpoints": [ { "Id": "e", "Model": "m" } ] } } }""", "costModel.routing.apiEndpoints: set by the simulator")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "costModel": { "pricing": { "useBundledTable": true } } }""", "costModel.pricing.useBundledTable")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "apis": [ { "id": "e" }, { "id": "e" } ] }""", "apis[1].id: 'e' is used twice")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 1, "kind": "load", "node": "b", "value": 0.5 } ] }""", "events[0].node: 'b' is not a node")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 1, "kind": "load", "node": "a", "value": 1.5 } ] }""", "events[0].value: a load event needs a value in [0, 1]")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 1, "kind": "load", "node": "a" } ] }""", "events[0].value")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 1, "kind": "gpuLoad", "node": "a", "value": 0.5 } ] }""", "events[0].node: 'a' has no gpu")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 1, "kind": "battery", "node": "a", "value": 50 } ] }""", "events[0].node: 'a' has no battery")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 1, "kind": "crash", "node": "a", "value": 3 } ] }""", "events[0].value: a crash event takes no value")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "events": [ { "atSeconds": 1, "kind": "price", "api": "nope", "inputDollarsPerMillionTokens": 1 } ] }""", "events[0].api: 'nope' is not an API endpoint")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "apis": [ { "id": "e", "price": "stale" } ] }""", "apis[0].listedInputDollarsPerMillionTokens and listedOutputDollarsPerMillionTokens")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a" } ], "apis": [ { "id": "e", "listedInputDollarsPerMillionTokens": 1 } ] }""", "apis[0].listedInputDollarsPerMillionTokens: only a stale price")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "gossip": { "lossShare": 1 } } ] }""", "nodes[0].gossip.lossShare")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "gossip": { "delayMilliseconds": 0 } } ] }""", "nodes[0].gossip.delayMilliseconds")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "noise": { "cpuUtilization": -0.1 } } ] }""", "nodes[0].noise.cpuUtilization")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "m" }, { "id": "M" } ] } ] }""", "nodes[0].models[1].id: 'M' is served twice")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "mix": [ { "model": "other" } ] } }""", "workload.mix[0].model: no node or API endpoint serves 'other'")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "mix": [ { "model": "m", "share": 0 } ] } }""", "workload.mix[0].share")]
    [InlineData("""{ "name": "x", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "mix": [ { "model": "m", "urgency": "soon" } ] } }""", "not a valid scenario")]
    public void A_scenario_that_contradicts_itself_is_refused_naming_the_field(string json, string expected)
    {
        ScenarioException ex = Assert.Throws<ScenarioException>(() => Scenario.Parse(json, "mine.json"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Each row is an input that the loader once accepted and the run then crashed on (a TimeSpan or
    /// DateTime overflow, a library range check on what a node advertises, the library's options, the
    /// price catalog dropping an out-of-range price, infinite dollars in the report), ran out of
    /// memory on, or silently misread (a burst window of 1e308 s that drops every burst request,
    /// shares adding up to infinity, a token count cast to int.MaxValue): each is now refused on load, naming the field and its range.
    /// </summary>
    [Theory]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m", "decodeTokensPerSecond": 1e-300 } ] } ] }""", "nodes[0].models[0].decodeTokensPerSecond: must be in [0.01, 1000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m", "decodeTokensPerSecond": 2e6 } ] } ] }""", "nodes[0].models[0].decodeTokensPerSecond: must be in [0.01, 1000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m", "prefillTokensPerSecond": 1e308 } ] } ] }""", "nodes[0].models[0].prefillTokensPerSecond: must be in [0.01, 10000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m", "parameterBillions": 1e6 } ] } ] }""", "nodes[0].models[0].parameterBillions: must be in (0, 100000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m", "quantizationBits": 0.5 } ] } ] }""", "nodes[0].models[0].quantizationBits: must be in [1, 32]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m\u0001" } ] } ] }""", "nodes[0].models[0].id: 1 to 128 characters required, without control characters")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" }, { "id": "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" } ] } ] }""", "nodes[0].models[1].id: 1 to 128 characters required")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a\u0007", "models": [ { "id": "m" } ] } ] }""", "nodes[0].id: 1 to 64 characters required, without control characters")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ], "power": { "batteryWattHours": 100000, "batteryPercent": 10, "chargeWatts": 20000 } } ] }""", "nodes[0].power.chargeWatts: must be in [0, 10000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ], "power": { "batteryWattHours": 100000, "pluggedIn": false, "activeWatts": 20000 } } ] }""", "nodes[0].power: idleWatts and activeWatts must be in [0, 10000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ], "network": { "rttMilliseconds": 1e308 } }, { "id": "b", "models": [ { "id": "m" } ] } ] }""", "nodes[0].network.rttMilliseconds: must be in [0, 60000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ], "network": { "bandwidthMegabitsPerSecond": 1e-300 } }, { "id": "b", "models": [ { "id": "m" } ] } ] }""", "nodes[0].network.bandwidthMegabitsPerSecond: must be in [0.001, 1000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "decodeTokensPerSecond": 1e-300 } ] }""", "apis[0].decodeTokensPerSecond: must be in [0.01, 1000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "prefillTokensPerSecond": 1e308 } ] }""", "apis[0].prefillTokensPerSecond: must be in [0.01, 100000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "inputDollarsPerMillionTokens": 1e308 } ] }""", "apis[0].inputDollarsPerMillionTokens: must be in [0, 100000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "outputDollarsPerMillionTokens": 2e6 } ] }""", "apis[0].outputDollarsPerMillionTokens: must be in [0, 100000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "price": "stale", "listedInputDollarsPerMillionTokens": 1e308, "listedOutputDollarsPerMillionTokens": 1 } ] }""", "apis[0].listedInputDollarsPerMillionTokens and listedOutputDollarsPerMillionTokens")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "parameterBillions": 1e6 } ] }""", "apis[0].parameterBillions: must be in (0, 100000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "quantizationBits": 0.5 } ] }""", "apis[0].quantizationBits: must be in [1, 32]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e", "model": "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" } ] }""", "apis[0].model: 1 to 128 characters required")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e" } ], "events": [ { "atSeconds": 1, "kind": "price", "api": "e", "inputDollarsPerMillionTokens": 1e308 } ] }""", "events[0].inputDollarsPerMillionTokens: must be in [0, 100000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "requestTimeoutSeconds": 1e308 }""", "requestTimeoutSeconds: must be in (0, 3600]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "requestTimeoutSeconds": 7200 }""", "requestTimeoutSeconds: must be in (0, 3600]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] }, { "id": "b", "models": [ { "id": "m" } ] } ], "failFastSeconds": 1e308, "workload": { "routers": [ "b" ], "requestsPerMinute": 60 }, "events": [ { "atSeconds": 0, "kind": "failFast", "node": "a" } ] }""", "failFastSeconds: must be in (0, 3600]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "apis": [ { "id": "e" } ], "apiDailyBudgetDollars": 1e308 }""", "apiDailyBudgetDollars: must be in [0, 1000000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "warmupSeconds": 1e6 }""", "warmupSeconds: must be in [0, 86400]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "start": "0001-01-01T00:00:00Z" }""", "start: must be between 0002-01-01 and 9998-01-01")]
    [InlineData("""{ "name": "x", "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "start": "9999-12-31T00:00:00Z", "durationSeconds": 86400 }""", "start: must be between 0002-01-01 and 9998-01-01")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "events": [ { "atSeconds": 1e308, "kind": "crash", "node": "a" } ] }""", "events[0].atSeconds: must be in [0, 86400]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "requestsPerMinute": 1e308 } }""", "workload.requestsPerMinute: must be in [0, 600000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 120, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "requestsPerMinute": 600000 } }""", "workload: draws about 1200000 requests")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "bursts": [ { "atSeconds": 1, "requestsPerRouter": 2000000000 } ] } }""", "workload.bursts[0].requestsPerRouter: must be 1 to 1000000")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "bursts": [ { "atSeconds": 1e308 } ] } }""", "workload.bursts[0].atSeconds: must be in [0, 86400]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "bursts": [ { "atSeconds": 1, "withinSeconds": 1e308 } ] } }""", "workload.bursts[0].withinSeconds: must be in [0, 86400]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "inputTokens": { "min": 1, "max": 1e308 } } }""", "workload.inputTokens.max: must be at most 10000000")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "outputTokens": { "min": 1e9, "max": 1e9 } } }""", "workload.outputTokens.max: must be at most 10000000")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "payloadBytes": { "min": 1, "max": 1e308 } } }""", "workload.payloadBytes.max: must be at most 1000000000")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "maxHistoryTokens": 2147483647 } }""", "workload.maxHistoryTokens: must be in [0, 10000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" }, { "id": "n" } ] } ], "workload": { "mix": [ { "model": "m", "share": 1e308 }, { "model": "n", "share": 1e308 } ] } }""", "workload.mix[0].share: must be in (0, 1000000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" } ] } ], "workload": { "mix": [ { "model": "m", "minParameterBillions": 1e308 } ] } }""", "workload.mix[0].minParameterBillions: must be in (0, 100000]")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "a", "models": [ { "id": "m" }, { "id": "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9" } ] } ] }""", "nodes[0].models[1].id: at most 255 UTF-8 bytes")]
    [InlineData("""{ "name": "x", "durationSeconds": 60, "model": "m", "nodes": [ { "id": "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "models": [ { "id": "m" } ] } ] }""", "nodes[0].id: at most 64 UTF-8 bytes")]
    public void An_absurd_number_is_refused_naming_the_field_rather_than_crashing_the_run(string json, string expected)
    {
        ScenarioException ex = Assert.Throws<ScenarioException>(() => Scenario.Parse(json, "mine.json"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_serving_more_models_than_its_capabilities_carry_is_refused_naming_the_field()
    {
        string models = string.Join(", ", Enumerable.Range(0, NodeCapabilities.MaxModels + 1).Select(i => $$"""{ "id": "m{{i}}" }"""));
        string json = $$"""{ "name": "x", "model": "m0", "nodes": [ { "id": "a", "models": [ {{models}} ] } ] }""";
        ScenarioException ex = Assert.Throws<ScenarioException>(() => Scenario.Parse(json, "mine.json"));
        Assert.Contains("nodes[0].models: at most 32 models per node", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_longer_than_a_timespan_holds_never_ends_in_the_run_rather_than_overflowing()
    {
        // Every field in range: 10 M-token prompts and answers at 0.01 tokens/s, slowed a
        // thousandfold under full background load: some 4e13 s of service, past TimeSpan's 9.2e11 s.
        Scenario s = Scenario.Parse("""
            { "name": "slowest", "durationSeconds": 60, "model": "m",
              "nodes": [ { "id": "a", "models": [ { "id": "m", "prefillTokensPerSecond": 0.01, "decodeTokensPerSecond": 0.01 } ] } ],
              "workload": { "requestsPerMinute": 6, "conversationShare": 0, "inputTokens": { "min": 10000000, "max": 10000000 }, "outputTokens": { "min": 10000000, "max": 10000000 } },
              "events": [ { "atSeconds": 0, "kind": "load", "node": "a", "value": 1 }, { "atSeconds": 0, "kind": "slow", "node": "a", "factor": 1000 } ] }
            """);
        SimulationResult r = MeshSimulator.Run(s, RoutingPolicies.RoundRobin, Seed);
        Assert.True(r.Metrics.Requests > 0);
        Assert.Equal(0, r.Metrics.CompletedRequests);
        Assert.Equal(r.Metrics.Requests, r.Metrics.FailedRequests);
    }

    [Fact]
    public void A_costModel_value_the_binder_cannot_read_is_refused_naming_costModel()
    {
        Scenario s = Scenario.Parse("""
            { "name": "x", "durationSeconds": 10, "nodes": [ { "id": "a", "models": [ { "id": "llama-3.1-8b" } ] } ],
              "costModel": { "Scoring": { "BatteryReserveFloorPercent": "abc" } } }
            """);
        ScenarioException ex = Assert.Throws<ScenarioException>(() => MeshSimulator.Run(s, RoutingPolicies.RoundRobin, Seed));
        Assert.Contains("costModel cannot be read for node 'a'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CostModel:Scoring:BatteryReserveFloorPercent", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_new_field_survives_a_round_trip_through_the_json()
    {
        Scenario s = Scenario.Parse(WhatIfJson);
        Scenario again = Scenario.Parse(s.ToJson());
        Assert.Equal(s.ToJson(), again.ToJson());
        Assert.Equal(ApiPriceStatus.Stale, again.Apis[1].Price);
        Assert.Equal(CostModel.Scoring.Urgency.Background, again.Workload.Mix[1].Urgency);
        Assert.Equal(30_000, again.Nodes[1].Gossip!.DelayMilliseconds);
    }

    [Fact]
    public void An_endpoint_with_an_unknown_price_is_never_chosen_by_the_library_and_every_decision_says_so()
    {
        Scenario s = ApiScenario(ApiPriceStatus.Unknown, costModel: null);
        SimulationResult r = MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed);
        Assert.DoesNotContain(r.Requests, q => q.Target == "cheap-api");
        Assert.Contains(r.Requests, q => q.Target == "known-api");
        AssumptionShares a = r.Metrics.Assumptions!;
        Assert.True(a.Decisions > 0);
        Assert.Equal(1, a.PriceUnknown);
    }

    [Fact]
    public void An_unknown_price_with_the_operators_fallback_is_priced_by_it_as_the_library_does()
    {
        Scenario s = ApiScenario(ApiPriceStatus.Unknown, costModel: """{ "Pricing": { "UnknownPriceFallback": { "InputDollarsPerMillionTokens": 0.01, "OutputDollarsPerMillionTokens": 0.01 } } }""");
        SimulationResult r = MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed);
        Assert.Contains(r.Requests, q => q.Target == "cheap-api");
        Assert.Equal(0, r.Metrics.Assumptions!.PriceUnknown);
    }

    [Fact]
    public void A_stale_price_misleads_the_router_but_the_endpoint_charges_its_true_price()
    {
        // The table lists the endpoint as nearly free; it really costs 100 times the known one.
        Scenario s = ApiScenario(ApiPriceStatus.Stale, costModel: null);
        SimulationResult r = MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed);
        var toCheap = r.Requests.Where(q => q.Target == "cheap-api").ToList();
        Assert.NotEmpty(toCheap);
        double floor = toCheap.Where(q => q.Succeeded).Sum(q => ((q.InputTokens + q.HistoryTokens) * 15.0) + (q.OutputTokens * 60.0)) / 1e6;
        Assert.True(r.Metrics.ApiDollars >= floor * 0.999, $"charged {r.Metrics.ApiDollars} $, the true price of what went there is at least {floor} $");
    }

    [Fact]
    public void A_price_event_changes_what_the_endpoint_charges_from_then_on()
    {
        Scenario s = ApiScenario(ApiPriceStatus.Known, costModel: null);
        s.Nodes.Clear();
        s.Nodes.Add(new SimulatedNode { Id = "router" });
        SimulationResult before = MeshSimulator.Run(s, RoutingPolicies.LiteLlmCost, Seed);
        s.Events.Add(new ScenarioEvent { AtSeconds = 0, Kind = ScenarioEventKind.Price, Api = "cheap-api", InputDollarsPerMillionTokens = 15, OutputDollarsPerMillionTokens = 60 });
        SimulationResult after = MeshSimulator.Run(s, RoutingPolicies.LiteLlmCost, Seed);
        Assert.True(after.Metrics.ApiDollars > 10 * before.Metrics.ApiDollars, $"{before.Metrics.ApiDollars} $ then {after.Metrics.ApiDollars} $");
    }

    [Fact]
    public void A_frozen_gossip_makes_the_routers_picture_stale_while_the_node_still_serves()
    {
        Scenario s = ThreeDesks();
        SimulationResult fresh = MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed);
        Assert.Equal(0, fresh.Metrics.Assumptions!.Stale);

        s.Events.Add(new ScenarioEvent { AtSeconds = 0, Kind = ScenarioEventKind.GossipFreeze, Node = "b" });
        SimulationResult frozen = MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed);
        // Suspect first (missed heartbeats), then dead: b is set aside, first softly.
        Assert.True(frozen.Metrics.Assumptions!.Stale > 0, $"stale share {frozen.Metrics.Assumptions.Stale}");

        // Requests are not cut: b's own requests (it routes too) still complete on b.
        Assert.Contains(frozen.Requests, q => q.Router == "b" && q.Target == "b" && q.Succeeded);
    }

    [Theory]
    [InlineData(2_000, true)]

    // One way 20 s: the sender's proof comes back after the library's 10 s challenge window, so b is never heard.
    [InlineData(20_000, false)]
    public void A_slow_gossip_path_to_one_node_changes_only_what_the_others_know_of_it(double delayMilliseconds, bool heard)
    {
        Scenario s = ThreeDesks();
        s.Nodes[1].Gossip = new SimulatedGossip { DelayMilliseconds = delayMilliseconds };
        SimulationResult r = MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed);
        Assert.Equal(heard, r.Requests.Any(q => q.Router != "b" && q.Target == "b"));
        Assert.Contains(r.Requests, q => q.Router == "b" && q.Target == "b" && q.Succeeded);
        Assert.True(r.Metrics.CompletedRequests > 0.9 * r.Metrics.Requests);
    }

    [Theory]
    [InlineData(false)]

    // A node with its own gossip delay has links of its own: they carry the scenario's MTU too.
    [InlineData(true)]
    public void The_gossip_MTU_a_scenario_sets_is_the_simulated_networks(bool ownLinks)
    {
        // 100 nodes: their relayed states and capabilities fill a message of 1,400 bytes and more
        // (2,256 bytes on average at 4,000), so a larger MTU shows in the messages sent. Until the
        // network took the scenario's MTU it capped every message at its default of 1,400 bytes,
        // whatever Gossip:Mtu said.
        Scenario s = Scenario.BuiltIn("mesh-burst-100");
        s.DurationSeconds = 2;
        s.CostModel = JsonDocument.Parse("""{ "Gossip": { "Mtu": 4000 } }""").RootElement.Clone();
        if (ownLinks)
        {
            s.Nodes[0].Gossip = new SimulatedGossip { DelayMilliseconds = 20 };
        }

        using var run = new SimulationRun(s, RoutingPolicies.RoundRobin, Seed, Seed);
        run.Run();

        Assert.Equal(4000, run.GossipNetwork.DefaultConditions.Mtu);
        TrafficCounters total = run.GossipNetwork.Total;
        Assert.Equal(0, total.Oversize.Messages);
        TrafficCounters first = run.GossipNetwork.CountersOf(s.Nodes[0].Id);

        // On average above the 1,400 bytes the network used to cap them at: most messages are larger.
        Assert.True(first.Sent.Bytes > LinkConditions.DefaultMtu * first.Sent.Messages, $"{first.Sent.Bytes} bytes in {first.Sent.Messages} messages");
        Assert.True(first.Delivered.Messages > 0, "nothing delivered to the first node");
        Assert.True(total.Sent.Bytes > LinkConditions.DefaultMtu * total.Sent.Messages, $"{total.Sent.Bytes} bytes in {total.Sent.Messages} messages");
    }

    [Fact]
    public void The_simulator_sends_the_gossip_rounds_at_the_interval_a_scenario_sets()
    {
        // A round sends a message wherever a node has something to relay, and 48 nodes mostly
        // have: rounds twice as often send many more messages (1.64x here: some rounds find
        // nothing new), half as often many fewer. Until the simulator took the scenario's interval
        // it sent a round every 200 ms, whatever Gossip:Interval said.
        long Sent(string? interval)
        {
            using var run = new SimulationRun(MeshBurst48(seconds: 2, interval), RoutingPolicies.RoundRobin, Seed, Seed);
            run.Run();
            return run.GossipNetwork.Total.Sent.Messages;
        }

        long usual = Sent(null);
        long faster = Sent("00:00:00.1");
        long slower = Sent("00:00:00.4");
        Assert.True(faster > 1.5 * usual, $"{faster} messages at 100 ms, {usual} at 200 ms");
        Assert.True(slower < 0.7 * usual, $"{slower} messages at 400 ms, {usual} at 200 ms");
    }

    [Fact]
    public void The_gossip_summary_tells_a_mesh_whose_gossip_keeps_up_from_one_that_falls_behind()
    {
        GossipSummary Run(string? interval) => MeshSimulator.Run(MeshBurst48(seconds: 20, interval), RoutingPolicies.RoundRobin, Seed).Metrics.Gossip!;

        // 48 nodes at the defaults: every state arrives well within the heartbeat.
        GossipSummary usual = Run(null);
        Assert.True(usual.Merged > 1_000, $"{usual.Merged} merged");
        Assert.Equal(0, usual.Late);
        Assert.Equal(0, usual.LateShare);
        Assert.Equal(5, usual.HeartbeatSeconds);

        // Rounds 3 s apart: a state takes a round a hop, and most take two hops or more.
        GossipSummary slow = Run("00:00:03");
        Assert.True(slow.LateShare > 0.2, $"{slow.Late} of {slow.Merged} late");
        Assert.Equal((double)slow.Late / slow.Merged, slow.LateShare, 6);
    }

    [Fact]
    public void The_request_mix_names_each_requests_model_and_the_quality_floor_holds()
    {
        Scenario s = Scenario.Parse(WhatIfJson);
        s.Events.Clear();
        foreach (string policy in new[] { RoutingPolicies.CostModel, RoutingPolicies.RoundRobin, RoutingPolicies.Oracle })
        {
            SimulationResult r = MeshSimulator.Run(s, policy, Seed);
            var big = r.Requests.Where(q => q.Model == "llama-3.1-70b").ToList();
            var small = r.Requests.Where(q => q.Model == Model).ToList();
            Assert.NotEmpty(big);
            Assert.NotEmpty(small);
            Assert.All(big, q => Assert.True(q.Target is null or "gpu-box" or "big-api", $"{policy}: {q.Model} went to {q.Target}"));

            // The floor class (70 B, 8 bits) never lands on the 4.5-bit local copy.
            Assert.All(big.Where(q => q.Urgency == "interactive"), q => Assert.NotEqual("gpu-box", q.Target));
        }
    }

    [Fact]
    public void A_mix_is_deterministic_for_a_seed()
    {
        Scenario s = Scenario.Parse(WhatIfJson);
        Assert.Equal(MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed).ToJson(), MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed).ToJson());
    }

    [Fact]
    public void The_one_currency_total_is_the_sum_of_its_terms_and_prices_latency_at_the_value_of_time()
    {
        SimulationResult r = MeshSimulator.Run(Scenario.Parse(WhatIfJson), RoutingPolicies.CostModel, Seed);
        SimulationMetrics m = r.Metrics;
        Assert.Equal(m.LatencyDollars + m.EnergyDollars + m.BatteryDollars + m.MeteredDollars + m.ApiDollars, m.TotalDollars, 5);
        Assert.True(m.LatencyDollars > 0);
        Assert.True(m.EnergyDollars > 0);

        // Background requests are worth 0.0005 $/s, normal ones 0.01 $/s, interactive 0.03 $/s (the library's defaults).
        double expected = r.Requests.Sum(q => (q.Succeeded ? q.LatencySeconds : Math.Max(q.LatencySeconds, 30)) * q.Urgency switch { "background" => 0.0005, "interactive" => 0.03, _ => 0.01 });
        Assert.Equal(expected, m.LatencyDollars, 2);
    }

    [Fact]
    public void Only_the_costmodel_policy_reports_assumption_shares()
    {
        Scenario s = ThreeDesks();
        Assert.NotNull(MeshSimulator.Run(s, RoutingPolicies.CostModel, Seed).Metrics.Assumptions);
        Assert.Null(MeshSimulator.Run(s, RoutingPolicies.RoundRobin, Seed).Metrics.Assumptions);
    }

    [Fact]
    public void Background_load_takes_its_share_of_the_processor_and_shows_in_the_readings()
    {
        var spec = new SimulatedNode { Id = "d", BaseLoad = 0, Models = [new SimulatedModel { Id = "m", PrefillTokensPerSecond = 100, DecodeTokensPerSecond = 10 }], Noise = new SimulatedNoise { CpuUtilization = 0 } };
        var node = new NodeModel(spec, "m", T0, 1);
        Assert.Equal(2, node.ServiceSeconds(100, 10), 9);
        Assert.True(ScenarioRuntime.Apply(new ScenarioEvent { Kind = ScenarioEventKind.Load, Node = "d", Value = 0.5 }, node, []));
        Assert.Equal(4, node.ServiceSeconds(100, 10), 9);
        Assert.Equal(0.5, node.ReadCompute(T0).CpuUtilization.Value, 9);
    }

    [Fact]
    public void A_gpu_node_reports_its_load_on_the_gpu_and_a_gpu_load_event_slows_it()
    {
        var spec = new SimulatedNode { Id = "g", BaseLoad = 0.2, Gpu = new SimulatedGpu(), Models = [new SimulatedModel { Id = "m", PrefillTokensPerSecond = 100, DecodeTokensPerSecond = 10 }], Noise = new SimulatedNoise { CpuUtilization = 0 } };
        var node = new NodeModel(spec, "m", T0, 1);
        Assert.Equal(2, node.ServiceSeconds(100, 10), 9);          // CPU load does not slow GPU inference
        node.Running = 1;
        GpuFactors gpu = node.ReadGpu(T0);
        Assert.Equal(1, gpu.Devices[0].Utilization.Value, 9);
        Assert.Equal(0.2, node.ReadCompute(T0).CpuUtilization.Value, 9);
        ScenarioRuntime.Apply(new ScenarioEvent { Kind = ScenarioEventKind.GpuLoad, Node = "g", Value = 0.75 }, node, []);
        Assert.Equal(8, node.ServiceSeconds(100, 10), 9);
    }

    [Fact]
    public void Heat_throttle_battery_and_charger_events_set_the_node_state()
    {
        var spec = new SimulatedNode
        {
            Id = "l",
            BaseLoad = 0,
            Models = [new SimulatedModel { Id = "m", PrefillTokensPerSecond = 100, DecodeTokensPerSecond = 10 }],
            Thermal = new SimulatedThermal { ThrottleAbove = 0.5, MaxThrottleRatio = 0.4 },
            Power = new SimulatedPower { BatteryWattHours = 50, BatteryPercent = 80, ChargeWatts = 45 },
            Noise = new SimulatedNoise { BatteryPercent = 0, ThrottleRatio = 0 },
        };
        var node = new NodeModel(spec, "m", T0, 1);
        ScenarioRuntime.Apply(new ScenarioEvent { Kind = ScenarioEventKind.Heat, Value = 1 }, node, []);
        Assert.Equal(0.4, node.ThrottleRatio, 9);
        ScenarioRuntime.Apply(new ScenarioEvent { Kind = ScenarioEventKind.Heat, Value = 0 }, node, []);
        ScenarioRuntime.Apply(new ScenarioEvent { Kind = ScenarioEventKind.Throttle, Value = 0.5 }, node, []);
        Assert.Equal(4, node.ServiceSeconds(100, 10), 9);
        ScenarioRuntime.Apply(new ScenarioEvent { Kind = ScenarioEventKind.Battery, Value = 20 }, node, []);
        Assert.Equal(20, node.ReadPower(T0).BatteryPercent.Value, 9);
        ScenarioRuntime.Apply(new ScenarioEvent { Kind = ScenarioEventKind.Charger, Value = 0 }, node, []);
        node.Update(T0.AddHours(1));
        Assert.Equal(20, node.BatteryPercent, 9);                    // plugged in, but a dead charger charges nothing
    }

    [Fact]
    public void Zero_noise_reads_the_exact_truth()
    {
        var spec = new SimulatedNode { Id = "d", BaseLoad = 0.37, Power = new SimulatedPower { BatteryWattHours = 50, BatteryPercent = 63.5, PluggedIn = false }, Noise = new SimulatedNoise { CpuUtilization = 0, BatteryPercent = 0, ThrottleRatio = 0 } };
        var node = new NodeModel(spec, "m", T0, 9);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(0.37, node.ReadCompute(T0).CpuUtilization.Value, 12);
            Assert.Equal(63.5, node.ReadPower(T0).BatteryPercent.Value, 12);
        }
    }

    /// <summary>A router-only node, a slow desk, a known API and a cheap second API whose price status varies.</summary>
    private static Scenario ApiScenario(ApiPriceStatus cheap, string? costModel)
    {
        string listed = cheap == ApiPriceStatus.Stale ? """, "listedInputDollarsPerMillionTokens": 0.001, "listedOutputDollarsPerMillionTokens": 0.001""" : "";
        string section = costModel is null ? "" : $""", "costModel": {costModel}""";
        return Scenario.Parse($$"""
        {
          "name": "api-prices",
          "durationSeconds": 120,
          "nodes": [ { "id": "desk", "models": [ { "id": "{{Model}}", "decodeTokensPerSecond": 5 } ] } ],
          "apis": [
            { "id": "known-api", "inputDollarsPerMillionTokens": 0.15, "outputDollarsPerMillionTokens": 0.6 },
            { "id": "cheap-api", "price": "{{cheap.ToString().ToLowerInvariant()}}", "inputDollarsPerMillionTokens": {{(cheap == ApiPriceStatus.Stale ? 15 : 0.01)}}, "outputDollarsPerMillionTokens": {{(cheap == ApiPriceStatus.Stale ? 60 : 0.01)}}{{listed}} }
          ],
          "workload": { "requestsPerMinute": 20 }{{section}}
        }
        """);
    }

    private static Scenario ThreeDesks() => new()
    {
        Name = "three-desks",
        DurationSeconds = 120,
        Nodes =
        [
            new SimulatedNode { Id = "a", Models = [new SimulatedModel { Id = Model }] },
            new SimulatedNode { Id = "b", Models = [new SimulatedModel { Id = Model, DecodeTokensPerSecond = 40 }] },
            new SimulatedNode { Id = "c", Models = [new SimulatedModel { Id = Model }] },
        ],
        Workload = new Workload { RequestsPerMinute = 6 },
    };

    private const string WhatIfJson = """
    {
      "name": "what-if",
      "durationSeconds": 180,
      "nodes": [
        { "id": "laptop", "models": [ { "id": "llama-3.1-8b" } ], "noise": { "cpuUtilization": 0.1 },
          "power": { "batteryWattHours": 60, "batteryPercent": 50, "pluggedIn": true } },
        { "id": "gpu-box", "gpu": { "baseLoad": 0.1 }, "gossip": { "delayMilliseconds": 30000 },
          "models": [ { "id": "llama-3.1-8b", "decodeTokensPerSecond": 90, "prefillTokensPerSecond": 3000 },
                      { "id": "llama-3.1-70b", "parameterBillions": 70, "decodeTokensPerSecond": 15, "prefillTokensPerSecond": 600 } ],
          "power": { "idleWatts": 60, "activeWatts": 400 } }
      ],
      "apis": [
        { "id": "small-api" },
        { "id": "big-api", "model": "llama-3.1-70b", "parameterBillions": 70, "quantizationBits": 16, "price": "stale",
          "inputDollarsPerMillionTokens": 0.9, "outputDollarsPerMillionTokens": 0.9,
          "listedInputDollarsPerMillionTokens": 0.6, "listedOutputDollarsPerMillionTokens": 0.6 }
      ],
      "workload": {
        "requestsPerMinute": 12,
        "mix": [
          { "model": "llama-3.1-8b", "share": 3, "excludeMetered": true },
          { "model": "llama-3.1-70b", "share": 1, "urgency": "background", "maxDollarsPerRequest": 0.01 },
          { "model": "llama-3.1-70b", "share": 1, "urgency": "interactive", "minParameterBillions": 70, "minQuantizationBits": 8 }
        ]
      },
      "events": [
        { "atSeconds": 30, "kind": "gpuLoad", "node": "gpu-box", "value": 0.6 },
        { "atSeconds": 60, "kind": "unplug", "node": "laptop" },
        { "atSeconds": 90, "kind": "gossipFreeze", "node": "laptop" },
        { "atSeconds": 120, "kind": "price", "api": "small-api", "outputDollarsPerMillionTokens": 1.2 },
        { "atSeconds": 150, "kind": "gossipThaw", "node": "laptop" }
      ]
    }
    """;
}
