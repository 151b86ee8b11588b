using System.Globalization;
using System.Text;
using System.Text.Json;
using CostModel.Factors;
using CostModel.Gossip.Wire;

namespace CostModel.Testing.Simulation;

/// <summary>
/// The bounds of the scenario format's numbers, each with its unit and reason: where the library
/// has a range for the same quantity, the scenario's is the library's, so a value the library would
/// refuse when a node advertises it is refused when the scenario is loaded, naming the field; where
/// it has none, the bound is far past any real machine, so that what a run computes from it
/// (seconds of service, bytes on a link, requests to hold) stays finite and fits in memory.
/// </summary>
internal static class ScenarioLimits
{
    /// <summary>0.01 tokens/s: the library's slowest API speed prior (<c>ApiEndpoint</c>'s range); slower than any real model (a 400-token answer takes 11 hours).</summary>
    public const double MinTokensPerSecond = 0.01;

    /// <summary>1,000,000 tokens/s: the fastest decode a node may advertise (<see cref="ServedModel.DecodeTokensPerSecond"/>) and an API prior may state.</summary>
    public const double MaxDecodeTokensPerSecond = 1_000_000;

    /// <summary>10,000,000 tokens/s: the fastest prefill a node may advertise (<see cref="ServedModel.PrefillTokensPerSecond"/>).</summary>
    public const double MaxNodePrefillTokensPerSecond = 10_000_000;

    /// <summary>100,000,000 tokens/s: the fastest API prefill prior the library takes (<c>ApiEndpoint.PrefillTokensPerSecond</c>).</summary>
    public const double MaxApiPrefillTokensPerSecond = 100_000_000;

    /// <summary>100,000 billion parameters: the largest model a node may advertise (<see cref="ServedModel.ParameterBillions"/>), some fifty times today's largest.</summary>
    public const double MaxParameterBillions = 100_000;

    /// <summary>1 bit per weight: the fewest a node may advertise (<see cref="ServedModel.QuantizationBits"/> takes 1 to 32).</summary>
    public const double MinQuantizationBits = 1;

    /// <summary>32 bits per weight: full precision, the most <see cref="ServedModel.QuantizationBits"/> takes.</summary>
    public const double MaxQuantizationBits = 32;

    /// <summary>128 characters: the longest model id the library takes (<see cref="ServedModel.MaxModelIdLength"/>, <c>ApiEndpoint.Model</c>).</summary>
    public const int MaxModelIdLength = ServedModel.MaxModelIdLength;

    /// <summary>
    /// 255 UTF-8 bytes: the longest model id gossip carries (after a one-byte length; the library's
    /// <see cref="WireFormat.MaxTextBytes"/>). 128 characters outside ASCII can be more (128 x "é" is 256
    /// bytes), and a node advertising such a model is refused when its capabilities are set.
    /// </summary>
    public const int MaxModelIdUtf8Bytes = WireFormat.MaxTextBytes;

    /// <summary>64 UTF-8 bytes: the longest node id gossip carries (<see cref="WireFormat.MaxNodeIdBytes"/>; the library's <c>CostModel:NodeId</c> check).</summary>
    public const int MaxNodeIdUtf8Bytes = WireFormat.MaxNodeIdBytes;

    /// <summary>32 models: the most a node's capabilities carry (<see cref="NodeCapabilities.MaxModels"/>).</summary>
    public const int MaxModelsPerNode = NodeCapabilities.MaxModels;

    /// <summary>10,000 W: the largest battery rate a power probe reports (<see cref="PowerFactors.MaxBatteryRateWatts"/>), the charger event's bound; more than a server with eight GPUs draws.</summary>
    public const double MaxWatts = PowerFactors.MaxBatteryRateWatts;

    /// <summary>60,000 ms: a one-minute round trip, a hundred times a geostationary satellite link's (about 600 ms); the library's API round trip prior takes 0 to 60 s too.</summary>
    public const double MaxRttMilliseconds = 60_000;

    /// <summary>0.001 Mbit/s (1 kbit/s): slower than a GSM data call (9.6 kbit/s).</summary>
    public const double MinBandwidthMegabitsPerSecond = 0.001;

    /// <summary>1,000,000 Mbit/s (1 Tbit/s): faster than any network interface (800 Gbit/s Ethernet).</summary>
    public const double MaxBandwidthMegabitsPerSecond = 1_000_000;

    /// <summary>100,000 $ per million tokens: the dearest price the library's price tables take (<c>ModelPrice</c>, <c>Pricing:UnknownPriceFallback</c>), a thousand times today's dearest API.</summary>
    public const double MaxDollarsPerMillionTokens = 100_000;

    /// <summary>1,000,000,000 $: the largest spend cap the library takes (<c>SpendCap.MaxDollars</c>).</summary>
    public const double MaxBudgetDollars = 1_000_000_000;

    /// <summary>3,600 s: the most <c>Routing:FailureCost</c> takes, which the simulator sets from <c>requestTimeoutSeconds</c>; a client that waits an hour has gone.</summary>
    public const double MaxRequestSeconds = 3_600;

    /// <summary>10,000,000 tokens: longer than any served context window (10 M tokens, the longest offered); a prompt, answer or history past it is no request.</summary>
    public const double MaxTokens = 10_000_000;

    /// <summary>1,000,000,000 bytes: 10 M tokens as JSON are some 50 MB; a gigabyte is no chat request.</summary>
    public const double MaxPayloadBytes = 1_000_000_000;

    /// <summary>
    /// 600,000 requests per minute per router: 10,000 per second, the most a node's pending-work
    /// probe reports (<see cref="PendingWork.MaxArrivalsPerSecond"/>).
    /// </summary>
    public const double MaxRequestsPerMinute = 600_000;

    /// <summary>
    /// 1,000,000 requests: the most a run draws (expected Poisson arrivals plus bursts). The run
    /// holds every request and its record for the report: a run of 980,000 requests on a two-node
    /// mesh peaked at 630 MB resident (round-robin, 7 s), and the report runner runs one run per
    /// core side by side; the built-in scenarios draw a few thousand at most. Past it a workload
    /// would exhaust memory rather than be refused.
    /// </summary>
    public const double MaxRequests = 1_000_000;

    /// <summary>1,000,000: the largest relative weight of a mix class; finer ratios than one in a million are more than a run draws (<see cref="MaxRequests"/>), and the shares must add up to a finite number.</summary>
    public const double MaxShare = 1_000_000;

    /// <summary>
    /// 0002-01-01 and 9998-01-01 UTC: the earliest and latest start, a year inside .NET's time range
    /// (years 1 to 9999) on each side for the warm-up and the stale price table dated 180 days before
    /// the start, and for the run, its drain and the library's timers after it.
    /// </summary>
    public static readonly DateTimeOffset MinStart = new(2, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <inheritdoc cref="MinStart"/>
    public static readonly DateTimeOffset MaxStart = new(9998, 1, 1, 0, 0, 0, TimeSpan.Zero);
}

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

        Require(errors, (n.Models?.Count ?? 0) <= ScenarioLimits.MaxModelsPerNode, F($"{at}.models: at most {ScenarioLimits.MaxModelsPerNode} models per node"));
        var models = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int m = 0; m < (n.Models?.Count ?? 0); m++)
        {
            SimulatedModel? model = n.Models![m];
            if (model is null || string.IsNullOrWhiteSpace(model.Id))
            {
                continue;
            }

            Require(errors, models.Add(model.Id), F($"{at}.models[{m}].id: '{model.Id}' is served twice by this node"));
            Require(errors, model.ParameterBillions is > 0 and <= ScenarioLimits.MaxParameterBillions, F($"{at}.models[{m}].parameterBillions: must be in (0, {ScenarioLimits.MaxParameterBillions}]"));
            Require(errors, model.QuantizationBits is >= ScenarioLimits.MinQuantizationBits and <= ScenarioLimits.MaxQuantizationBits, F($"{at}.models[{m}].quantizationBits: must be in [{ScenarioLimits.MinQuantizationBits}, {ScenarioLimits.MaxQuantizationBits}]"));
            Require(errors, model.ContextTokens > 0, F($"{at}.models[{m}].contextTokens: must be positive"));
        }
    }

    public static void Api(List<string> errors, string at, SimulatedApi a)
    {
        Require(errors, a.Model is null || !string.IsNullOrWhiteSpace(a.Model), F($"{at}.model: must not be empty (leave it out for the scenario's model)"));
        if (!string.IsNullOrWhiteSpace(a.Model))
        {
            ModelId(errors, $"{at}.model", a.Model);
        }

        Require(errors, Enum.IsDefined(a.Price), F($"{at}.price: must be known, stale or unknown"));
        bool listed = a.ListedInputDollarsPerMillionTokens is not null || a.ListedOutputDollarsPerMillionTokens is not null;
        if (a.Price == ApiPriceStatus.Stale)
        {
            Require(errors, Price(a.ListedInputDollarsPerMillionTokens) && Price(a.ListedOutputDollarsPerMillionTokens), F($"{at}.listedInputDollarsPerMillionTokens and listedOutputDollarsPerMillionTokens: a stale price needs what the out-of-date table lists, in [0, {ScenarioLimits.MaxDollarsPerMillionTokens}]"));
        }
        else
        {
            Require(errors, !listed, F($"{at}.listedInputDollarsPerMillionTokens: only a stale price has a listed price apart from the true one (price is {a.Price.ToString().ToLowerInvariant()})"));
        }

        Require(errors, a.ParameterBillions is null or (> 0 and <= ScenarioLimits.MaxParameterBillions), F($"{at}.parameterBillions: must be in (0, {ScenarioLimits.MaxParameterBillions}]"));
        Require(errors, a.QuantizationBits is null or (>= ScenarioLimits.MinQuantizationBits and <= ScenarioLimits.MaxQuantizationBits), F($"{at}.quantizationBits: must be in [{ScenarioLimits.MinQuantizationBits}, {ScenarioLimits.MaxQuantizationBits}]"));
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
                ModelId(errors, $"{at}.model", c.Model);
            }

            Require(errors, c.Share is > 0 and <= ScenarioLimits.MaxShare, F($"{at}.share: must be in (0, {ScenarioLimits.MaxShare}]"));
            Require(errors, c.MinParameterBillions is null or (> 0 and <= ScenarioLimits.MaxParameterBillions), F($"{at}.minParameterBillions: must be in (0, {ScenarioLimits.MaxParameterBillions}]"));
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
        Require(errors, e.InputDollarsPerMillionTokens is null || Price(e.InputDollarsPerMillionTokens), F($"{at}.inputDollarsPerMillionTokens: must be in [0, {ScenarioLimits.MaxDollarsPerMillionTokens}]"));
        Require(errors, e.OutputDollarsPerMillionTokens is null || Price(e.OutputDollarsPerMillionTokens), F($"{at}.outputDollarsPerMillionTokens: must be in [0, {ScenarioLimits.MaxDollarsPerMillionTokens}]"));
        Unused(errors, at, e, node: e.Node is not null, value: e.Value is not null, factor: e.Factor is not null);
    }

    /// <summary>
    /// Refuses a workload that draws more requests than a run holds (<see cref="ScenarioLimits.MaxRequests"/>):
    /// the expected Poisson arrivals (rate per router times routers times duration) plus every burst's.
    /// </summary>
    public static void RequestCount(List<string> errors, Scenario scenario, Workload w)
    {
        int routers = w.Routers is { Count: > 0 } ? w.Routers.Count : scenario.Nodes?.Count ?? 0;
        double expected = double.IsFinite(w.RequestsPerMinute) && double.IsFinite(scenario.DurationSeconds)
            ? Math.Max(0, w.RequestsPerMinute) / 60 * routers * Math.Max(0, scenario.DurationSeconds)
            : 0;
        foreach (Burst? b in w.Bursts ?? [])
        {
            if (b is not null)
            {
                expected += (double)Math.Max(0, b.RequestsPerRouter) * (b.Routers is { Count: > 0 } ? b.Routers.Count : routers);
            }
        }

        Require(errors, expected <= ScenarioLimits.MaxRequests, F($"workload: draws about {expected:0} requests (requestsPerMinute x routers x durationSeconds / 60, plus each burst's requestsPerRouter x its routers); a run holds at most {ScenarioLimits.MaxRequests}"));
    }

    /// <summary>True for an id of 1 to <paramref name="maxLength"/> characters, not blank, without control characters or a lone surrogate (what the library's ids take).</summary>
    public static bool IsId(string? id, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > maxLength)
        {
            return false;
        }

        for (int i = 0; i < id.Length; i++)
        {
            if (char.IsControl(id[i]))
            {
                return false;
            }

            if (char.IsSurrogate(id[i]))
            {
                if (!char.IsSurrogatePair(id, i))
                {
                    return false;
                }

                i++;
            }
        }

        return true;
    }

    /// <summary>Checks a model id that is present: at most <see cref="ScenarioLimits.MaxModelIdLength"/> characters, without control characters.</summary>
    public static void ModelId(List<string> errors, string at, string? id)
    {
        if (!string.IsNullOrWhiteSpace(id))
        {
            Require(errors, IsId(id, ScenarioLimits.MaxModelIdLength), F($"{at}: 1 to {ScenarioLimits.MaxModelIdLength} characters required, without control characters"));
            Require(errors, Encoding.UTF8.GetByteCount(id) <= ScenarioLimits.MaxModelIdUtf8Bytes, F($"{at}: at most {ScenarioLimits.MaxModelIdUtf8Bytes} UTF-8 bytes (gossip carries a model id after a one-byte length)"));
        }
    }

    /// <summary>True for a price the library's tables take: finite, 0 to <see cref="ScenarioLimits.MaxDollarsPerMillionTokens"/> dollars per million tokens.</summary>
    public static bool Price(double? dollarsPerMillionTokens) => dollarsPerMillionTokens is >= 0 and <= ScenarioLimits.MaxDollarsPerMillionTokens;

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
