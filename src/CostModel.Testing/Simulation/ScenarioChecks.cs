using System.Globalization;
using System.Text.Json;

namespace CostModel.Testing.Simulation;

/// <summary>
/// The checks of the scenario format's newer parts (gossip, noise, GPU, prices, the request mix,
/// setting events, the <c>costModel</c> section): each problem is a message naming the field by
/// its JSON path. Nothing is silently ignored or overwritten.
/// </summary>
internal static class ScenarioChecks
{
    // The costModel settings the simulator sets itself, with where to say it instead.
    private static readonly (string[] Path, string Instead)[] SimulatorOwned =
    [
        (["nodeId"], "each node's id comes from nodes[].id"),
        (["routing", "apiEndpoints"], "declare API endpoints in the scenario's 'apis' (the simulator needs their true speeds and prices)"),
        (["pricing", "useBundledTable"], "the simulator prices endpoints only from the scenario's 'apis'"),
        (["pricing", "files"], "the simulator prices endpoints only from the scenario's 'apis'"),
        (["gossip", "dissemination"], "the simulator runs pull gossip"),
        (["gossip", "allowUnauthenticated"], "the simulator runs unauthenticated gossip in one process"),
    ];

    public static void Node(List<string> errors, string at, SimulatedNode n)
    {
        if (n.Gossip is { } g)
        {
            Require(errors, g.DelayMilliseconds is null || (double.IsFinite(g.DelayMilliseconds.Value) && g.DelayMilliseconds > 0 && g.DelayMilliseconds <= SimulationDefaults.MaxGossipDelayMilliseconds), F($"{at}.gossip.delayMilliseconds: must be in (0, {SimulationDefaults.MaxGossipDelayMilliseconds}]"));
            Require(errors, Share(g.LossShare) && g.LossShare < 1, F($"{at}.gossip.lossShare: must be in [0, 1) (a node that never gossips: use a gossipFreeze event)"));
        }

        if (n.Noise is { } noise)
        {
            Require(errors, Share(noise.CpuUtilization), F($"{at}.noise.cpuUtilization: must be in [0, 1]"));
            Require(errors, double.IsFinite(noise.BatteryPercent) && noise.BatteryPercent is >= 0 and <= 100, F($"{at}.noise.batteryPercent: must be in [0, 100]"));
            Require(errors, Share(noise.ThrottleRatio), F($"{at}.noise.throttleRatio: must be in [0, 1]"));
        }

        if (n.Gpu is { } gpu)
        {
            Require(errors, Share(gpu.BaseLoad), F($"{at}.gpu.baseLoad: must be in [0, 1]"));
        }

        var models = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int m = 0; m < (n.Models?.Count ?? 0); m++)
        {
            SimulatedModel? model = n.Models![m];
            if (model is null || string.IsNullOrWhiteSpace(model.Id))
            {
                continue;
            }

            Require(errors, models.Add(model.Id), F($"{at}.models[{m}].id: '{model.Id}' is served twice by this node"));
            Require(errors, double.IsFinite(model.ParameterBillions) && model.ParameterBillions > 0, F($"{at}.models[{m}].parameterBillions: must be positive"));
            Require(errors, model.QuantizationBits is > 0 and <= 32, F($"{at}.models[{m}].quantizationBits: must be in (0, 32]"));
            Require(errors, model.ContextTokens > 0, F($"{at}.models[{m}].contextTokens: must be positive"));
        }
    }

    public static void Api(List<string> errors, string at, SimulatedApi a)
    {
        Require(errors, a.Model is null || !string.IsNullOrWhiteSpace(a.Model), F($"{at}.model: must not be empty (leave it out for the scenario's model)"));
        Require(errors, Enum.IsDefined(a.Price), F($"{at}.price: must be known, stale or unknown"));
        bool listed = a.ListedInputDollarsPerMillionTokens is not null || a.ListedOutputDollarsPerMillionTokens is not null;
        if (a.Price == ApiPriceStatus.Stale)
        {
            Require(errors, NonNegative(a.ListedInputDollarsPerMillionTokens) && NonNegative(a.ListedOutputDollarsPerMillionTokens), F($"{at}.listedInputDollarsPerMillionTokens and listedOutputDollarsPerMillionTokens: a stale price needs what the out-of-date table lists, 0 or more"));
        }
        else
        {
            Require(errors, !listed, F($"{at}.listedInputDollarsPerMillionTokens: only a stale price has a listed price apart from the true one (price is {a.Price.ToString().ToLowerInvariant()})"));
        }

        Require(errors, a.ParameterBillions is null || (double.IsFinite(a.ParameterBillions.Value) && a.ParameterBillions > 0), F($"{at}.parameterBillions: must be positive"));
        Require(errors, a.QuantizationBits is null || a.QuantizationBits is > 0 and <= 32, F($"{at}.quantizationBits: must be in (0, 32]"));
    }

    /// <summary>Refuses costModel settings the simulator sets itself (they would be overwritten silently).</summary>
    public static void CostModelSection(List<string> errors, JsonElement? section)
    {
        if (section is not { ValueKind: JsonValueKind.Object } root)
        {
            return;
        }

        foreach ((string[] path, string instead) in SimulatorOwned)
        {
            if (Find(root, path))
            {
                errors.Add($"costModel.{string.Join('.', path)}: set by the simulator, so it cannot be set here; {instead}");
            }
        }
    }

    public static void Mix(List<string> errors, Scenario scenario, Workload w)
    {
        for (int i = 0; i < (w.Mix?.Count ?? 0); i++)
        {
            RequestClass? c = w.Mix![i];
            string at = F($"workload.mix[{i}]");
            if (c is null)
            {
                errors.Add($"{at}: null");
                continue;
            }

            if (string.IsNullOrWhiteSpace(c.Model))
            {
                errors.Add($"{at}.model: required");
            }
            else
            {
                bool served = scenario.Nodes?.Any(n => n?.Models?.Any(m => string.Equals(m?.Id, c.Model, StringComparison.OrdinalIgnoreCase)) == true) == true
                    || scenario.Apis?.Any(a => a is not null && string.Equals(a.ModelIn(scenario), c.Model, StringComparison.OrdinalIgnoreCase)) == true;
                Require(errors, served, $"{at}.model: no node or API endpoint serves '{c.Model}'");
            }

            Require(errors, double.IsFinite(c.Share) && c.Share > 0, F($"{at}.share: must be positive"));
            Require(errors, c.MinParameterBillions is null || (double.IsFinite(c.MinParameterBillions.Value) && c.MinParameterBillions > 0), F($"{at}.minParameterBillions: must be positive"));
            Require(errors, c.MinQuantizationBits is null || c.MinQuantizationBits is > 0 and <= 32, F($"{at}.minQuantizationBits: must be in (0, 32]"));
            Require(errors, c.MaxDollarsPerRequest is null || NonNegative(c.MaxDollarsPerRequest), F($"{at}.maxDollarsPerRequest: must be 0 or more"));
            Require(errors, c.Urgency is null || Enum.IsDefined(c.Urgency.Value), F($"{at}.urgency: must be background, normal or interactive"));
            Require(errors, c.ConversationShare is null || Share(c.ConversationShare.Value), F($"{at}.conversationShare: must be in [0, 1]"));
        }
    }

    public static void PriceEvent(List<string> errors, string at, ScenarioEvent e, List<SimulatedApi>? apis)
    {
        Require(errors, apis?.Any(a => a is not null && string.Equals(a.Id, e.Api, StringComparison.Ordinal)) == true, $"{at}.api: '{e.Api}' is not an API endpoint");
        Require(errors, e.InputDollarsPerMillionTokens is not null || e.OutputDollarsPerMillionTokens is not null, F($"{at}: a price event needs inputDollarsPerMillionTokens or outputDollarsPerMillionTokens"));
        Require(errors, e.InputDollarsPerMillionTokens is null || NonNegative(e.InputDollarsPerMillionTokens), F($"{at}.inputDollarsPerMillionTokens: must be 0 or more"));
        Require(errors, e.OutputDollarsPerMillionTokens is null || NonNegative(e.OutputDollarsPerMillionTokens), F($"{at}.outputDollarsPerMillionTokens: must be 0 or more"));
        Unused(errors, at, e, node: e.Node is not null, value: e.Value is not null, factor: e.Factor is not null);
    }

    /// <summary>Checks the fields of an event on one node (every kind but partition, heal and price).</summary>
    public static void NodeEvent(List<string> errors, string at, ScenarioEvent e, SimulatedNode? target)
    {
        bool setting = e.Kind is ScenarioEventKind.Load or ScenarioEventKind.GpuLoad or ScenarioEventKind.Heat or ScenarioEventKind.Throttle or ScenarioEventKind.Battery or ScenarioEventKind.Charger;
        if (setting)
        {
            string kind = JsonNamingPolicy.CamelCase.ConvertName(e.Kind.ToString());
            (bool ok, string range) = e.Kind switch
            {
                ScenarioEventKind.Throttle => (e.Value is >= 0 and <= 0.9, "[0, 0.9]"),
                ScenarioEventKind.Battery => (e.Value is >= 0 and <= 100, "[0, 100] percent"),
                ScenarioEventKind.Charger => (e.Value is >= 0 and <= 10_000, "[0, 10000] watts"),
                _ => (e.Value is >= 0 and <= 1, "[0, 1]"),
            };
            Require(errors, ok, $"{at}.value: a {kind} event needs a value in {range}");
            if (target is not null && e.Kind is ScenarioEventKind.GpuLoad)
            {
                Require(errors, target.Gpu is not null, $"{at}.node: '{e.Node}' has no gpu");
            }

            if (target is not null && e.Kind is ScenarioEventKind.Battery or ScenarioEventKind.Charger)
            {
                Require(errors, (target.Power ?? new()).BatteryWattHours > 0, $"{at}.node: '{e.Node}' has no battery");
            }
        }

        Unused(errors, at, e, node: false, value: !setting && e.Value is not null, factor: e.Kind is not ScenarioEventKind.Slow && e.Factor is not null);
        if (e.Nodes is not null)
        {
            errors.Add($"{at}.nodes: only a partition names several nodes (use node)");
        }
    }

    private static void Unused(List<string> errors, string at, ScenarioEvent e, bool node, bool value, bool factor)
    {
        string kind = JsonNamingPolicy.CamelCase.ConvertName(e.Kind.ToString());
        Require(errors, !node, $"{at}.node: a {kind} event names no node");
        Require(errors, !value, $"{at}.value: a {kind} event takes no value");
        Require(errors, !factor, $"{at}.factor: only a slow event takes a factor");
        if (e.Kind is not ScenarioEventKind.Price)
        {
            Require(errors, e.Api is null && e.InputDollarsPerMillionTokens is null && e.OutputDollarsPerMillionTokens is null, $"{at}.api: only a price event names an API endpoint and prices");
        }
    }

    private static bool Find(JsonElement element, string[] path)
    {
        JsonElement current = element;
        foreach (string name in path)
        {
            if (current.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            bool found = false;
            foreach (JsonProperty p in current.EnumerateObject())
            {
                // Configuration keys are case-insensitive, as the binder reads them.
                if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    current = p.Value;
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Share(double v) => v is >= 0 and <= 1;

    private static bool NonNegative(double? v) => v is { } x && double.IsFinite(x) && x >= 0;

    private static void Require(List<string> errors, bool ok, string message)
    {
        if (!ok)
        {
            errors.Add(message);
        }
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
