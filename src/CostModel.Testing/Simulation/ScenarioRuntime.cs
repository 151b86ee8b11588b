using System.Globalization;
using System.Text.Json;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Testing.Gossip;

namespace CostModel.Testing.Simulation;

/// <summary>
/// What a run does with the scenario format's newer parts: the API endpoints and their prices as
/// the library sees them, per-node gossip conditions, and the setting events. Kept apart from the
/// event loop (<see cref="SimulationRun"/>) and the node's DI (<see cref="SimHost"/>), which call in.
/// </summary>
internal static class ScenarioRuntime
{
    /// <summary>The routers' API endpoints: each scenario endpoint with its model, speeds priors and published size; priced under its own id.</summary>
    public static List<ApiEndpoint> Endpoints(Scenario scenario) =>
    [
        .. scenario.Apis.Select(a => new ApiEndpoint
        {
            Id = a.Id,
            Model = a.ModelIn(scenario),
            PriceModel = a.Id,
            RttSeconds = a.LatencySeconds,
            DecodeTokensPerSecond = a.DecodeTokensPerSecond,
            PrefillTokensPerSecond = a.PrefillTokensPerSecond,
            ParameterBillions = a.ParameterBillions,
            QuantizationBits = a.QuantizationBits,
        }),
    ];

    /// <summary>Checks that the catalog holds what the scenario says: known and stale prices listed, unknown ones not.</summary>
    /// <exception cref="InvalidOperationException">The catalog disagrees (a simulator bug, not a scenario error).</exception>
    public static void CheckPrices(IPriceCatalog catalog, Scenario scenario)
    {
        foreach (SimulatedApi api in scenario.Apis)
        {
            PriceStatus status = catalog.Lookup(api.Id).Status;
            bool listed = api.Price != ApiPriceStatus.Unknown;
            if (listed != (status == PriceStatus.Known))
            {
                throw new InvalidOperationException($"The simulated price of '{api.Id}' ({api.Price}) reached the catalog as {status}.");
            }
        }
    }

    /// <summary>Sets the gossip links of every node with its own gossip delay or loss: both directions with every other node, with the network's default MTU.</summary>
    public static void ApplyGossip(InMemoryNetwork network, Scenario scenario)
    {
        TimeSpan fallback = TimeSpan.FromMilliseconds(scenario.GossipDelayMilliseconds);
        var custom = new HashSet<string>(StringComparer.Ordinal);
        foreach (SimulatedNode a in scenario.Nodes)
        {
            if (a.Gossip is null)
            {
                continue;
            }

            custom.Add(a.Id);
            foreach (SimulatedNode b in scenario.Nodes)
            {
                if (ReferenceEquals(a, b) || (b.Gossip is not null && custom.Contains(b.Id)))
                {
                    continue;
                }

                LinkConditions link = Link(a.Gossip, b.Gossip, fallback, network.DefaultConditions.Mtu);
                network.SetLink(a.Id, b.Id, link);
                network.SetLink(b.Id, a.Id, link);
            }
        }
    }

    /// <summary>Applies a setting event (load, heat, throttle, battery, charger, price, gossip freeze and thaw).</summary>
    /// <returns>False for an event kind this does not handle.</returns>
    public static bool Apply(ScenarioEvent e, NodeModel? node, Dictionary<string, SimulatedApi> apis)
    {
        switch (e.Kind)
        {
            case ScenarioEventKind.Load:
                node!.BackgroundLoad = e.Value!.Value;
                return true;
            case ScenarioEventKind.GpuLoad:
                node!.GpuBackgroundLoad = e.Value!.Value;
                return true;
            case ScenarioEventKind.Heat:
                node!.SetHeat(e.Value!.Value);
                return true;
            case ScenarioEventKind.Throttle:
                node!.ForcedThrottleRatio = e.Value!.Value;
                return true;
            case ScenarioEventKind.Battery:
                node!.SetBatteryPercent(e.Value!.Value);
                return true;
            case ScenarioEventKind.Charger:
                node!.ChargeWatts = e.Value!.Value;
                return true;
            case ScenarioEventKind.GossipFreeze:
                node!.GossipFrozen = true;
                return true;
            case ScenarioEventKind.GossipThaw:
                node!.GossipFrozen = false;
                return true;
            case ScenarioEventKind.Price:
                // The scenario object is shared by every run: the new price lives in a copy.
                SimulatedApi old = apis[e.Api!];
                apis[e.Api!] = new SimulatedApi
                {
                    Id = old.Id,
                    Model = old.Model,
                    Price = old.Price,
                    ListedInputDollarsPerMillionTokens = old.ListedInputDollarsPerMillionTokens,
                    ListedOutputDollarsPerMillionTokens = old.ListedOutputDollarsPerMillionTokens,
                    InputDollarsPerMillionTokens = e.InputDollarsPerMillionTokens ?? old.InputDollarsPerMillionTokens,
                    OutputDollarsPerMillionTokens = e.OutputDollarsPerMillionTokens ?? old.OutputDollarsPerMillionTokens,
                    LatencySeconds = old.LatencySeconds,
                    DecodeTokensPerSecond = old.DecodeTokensPerSecond,
                    PrefillTokensPerSecond = old.PrefillTokensPerSecond,
                    ParameterBillions = old.ParameterBillions,
                    QuantizationBits = old.QuantizationBits,
                };
                return true;
            default:
                return false;
        }
    }

    private static LinkConditions Link(SimulatedGossip a, SimulatedGossip? b, TimeSpan fallback, int mtu)
    {
        TimeSpan delayA = a.DelayMilliseconds is { } da ? TimeSpan.FromMilliseconds(da) : fallback;
        TimeSpan delayB = b?.DelayMilliseconds is { } db ? TimeSpan.FromMilliseconds(db) : fallback;
        double loss = 1 - ((1 - a.LossShare) * (1 - (b?.LossShare ?? 0)));
        return new LinkConditions { Delay = delayA > delayB ? delayA : delayB, LossProbability = loss, Mtu = mtu };
    }
}

/// <summary>The scenario's API prices as a price table the real catalog installs: known prices as they are, stale ones as listed in a table dated long ago, unknown ones left out.</summary>
internal sealed class ScenarioPriceSource(Scenario scenario) : IPriceSource
{
    public Task<(string Json, string Origin)?> FetchAsync(CancellationToken cancellationToken)
    {
        var listed = scenario.Apis.Where(a => a.Price != ApiPriceStatus.Unknown).ToList();
        if (listed.Count == 0)
        {
            return Task.FromResult<(string Json, string Origin)?>(null);
        }

        // One table holds every listed price: when one is stale, the whole table carries the old date.
        DateTimeOffset asOf = listed.Any(a => a.Price == ApiPriceStatus.Stale)
            ? scenario.StartTime.AddDays(-SimulationDefaults.StalePriceTableAgeDays)
            : scenario.StartTime;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("format", "costmodel-prices/1");
            w.WriteString("asOf", asOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            w.WriteStartArray("prices");
            foreach (SimulatedApi api in listed)
            {
                bool stale = api.Price == ApiPriceStatus.Stale;
                w.WriteStartObject();
                w.WriteString("provider", "simulation");
                w.WriteString("model", api.Id);
                w.WriteNumber("inputDollarsPerMillionTokens", stale ? api.ListedInputDollarsPerMillionTokens!.Value : api.InputDollarsPerMillionTokens);
                w.WriteNumber("outputDollarsPerMillionTokens", stale ? api.ListedOutputDollarsPerMillionTokens!.Value : api.OutputDollarsPerMillionTokens);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        string json = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        return Task.FromResult<(string Json, string Origin)?>((json, "scenario " + scenario.Name));
    }
}
