using System.Globalization;
using System.Text;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CostModel.Testing.Simulation;

/// <summary>
/// A mesh to simulate: its nodes, paid API endpoints, workload and timed events, plus the
/// CostModel options every node runs with. Loaded from JSON (<see cref="Load(string)"/>; every
/// field, unit and default is in <c>docs/simulation.md</c>, the JSON schema in
/// <c>docs/scenario.schema.json</c>) or built in code.
/// </summary>
public sealed class Scenario
{
    /// <summary>The default start of virtual time: a weekday at 09:00 UTC, far from the UTC midnight at which daily spend caps reset.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    private const string ResourcePrefix = "CostModel.Testing.Simulation.Scenarios.";
    private const string ResourceSuffix = ".json";

    /// <summary>The scenario's name (used in reports).</summary>
    public string Name { get; set; } = "";

    /// <summary>What the scenario shows.</summary>
    public string? Description { get; set; }

    /// <summary>Simulated time after the warm-up, seconds (default 300).</summary>
    public double DurationSeconds { get; set; } = SimulationDefaults.DurationSeconds;

    /// <summary>Gossip-only time before the workload starts, seconds, so every node knows the mesh (default 10).</summary>
    public double WarmupSeconds { get; set; } = SimulationDefaults.WarmupSeconds;

    /// <summary>Virtual time at which the workload starts (default <see cref="DefaultStart"/>).</summary>
    public DateTimeOffset? Start { get; set; }

    /// <summary>The model every request asks for when the workload has no mix, and the model of an API endpoint that names none (default <c>llama-3.1-8b</c>).</summary>
    public string Model { get; set; } = SimulationDefaults.Model;

    /// <summary>One-way delay of a gossip message on the in-memory network, milliseconds (default 5).</summary>
    public double GossipDelayMilliseconds { get; set; } = SimulationDefaults.GossipDelayMilliseconds;

    /// <summary>How long a client waits for a node that does not answer (crashed) before the request fails, seconds (default 30).</summary>
    public double RequestTimeoutSeconds { get; set; } = SimulationDefaults.RequestTimeoutSeconds;

    /// <summary>How long a fail-fast node takes to answer with an error, seconds (default 0.005).</summary>
    public double FailFastSeconds { get; set; } = SimulationDefaults.FailFastSeconds;

    /// <summary>A daily API budget each router enforces (a <c>Budgets:SpendCaps</c> entry added to every node), dollars; null for none.</summary>
    public double? ApiDailyBudgetDollars { get; set; }

    /// <summary>
    /// The <c>CostModel</c> configuration section every node binds (as in <c>appsettings.json</c>),
    /// e.g. <c>{ "Scoring": { "BatteryReserveFloorPercent": 15 } }</c>. The simulator then sets
    /// the node id, pull gossip, the API endpoints and their prices.
    /// </summary>
    public JsonElement? CostModel { get; set; }

    /// <summary>The mesh nodes.</summary>
    public List<SimulatedNode> Nodes { get; set; } = [];

    /// <summary>The paid API endpoints (each serves its own model, <see cref="Model"/> by default).</summary>
    public List<SimulatedApi> Apis { get; set; } = [];

    /// <summary>The requests.</summary>
    public Workload Workload { get; set; } = new();

    /// <summary>Timed events: faults, power, partitions, background load, heat and throttling, battery and charger, prices, gossip freezes (<see cref="ScenarioEventKind"/>).</summary>
    public List<ScenarioEvent> Events { get; set; } = [];

    /// <summary>The names of the built-in scenarios, in order.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } =
    [
        .. typeof(Scenario).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(ResourceSuffix, StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^ResourceSuffix.Length])
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>Loads a built-in scenario (embedded in this assembly).</summary>
    /// <param name="name">One of <see cref="BuiltInNames"/>.</param>
    /// <returns>The validated scenario.</returns>
    /// <exception cref="ArgumentException">No built-in scenario has that name.</exception>
    public static Scenario BuiltIn(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Assembly assembly = typeof(Scenario).Assembly;
        using Stream stream = assembly.GetManifestResourceStream(ResourcePrefix + name + ResourceSuffix)
            ?? throw new ArgumentException($"No built-in scenario '{name}'; built in: {string.Join(", ", BuiltInNames)}.", nameof(name));
        return Load(stream, "built-in " + name);
    }

    /// <summary>Loads and validates a scenario file.</summary>
    /// <param name="path">The JSON file.</param>
    /// <returns>The validated scenario.</returns>
    /// <exception cref="ScenarioException">The file is not valid JSON or describes an invalid scenario; the message says where and why.</exception>
    public static Scenario Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using FileStream stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>Loads and validates a scenario from a stream of JSON.</summary>
    /// <param name="json">The JSON.</param>
    /// <param name="origin">A name for error messages (a file name).</param>
    /// <returns>The validated scenario.</returns>
    /// <exception cref="ScenarioException">The JSON is invalid or describes an invalid scenario.</exception>
    public static Scenario Load(Stream json, string origin = "scenario")
    {
        ArgumentNullException.ThrowIfNull(json);
        Scenario? scenario;
        try
        {
            scenario = JsonSerializer.Deserialize(json, ScenarioJsonContext.Default.Scenario);
        }
        catch (JsonException ex)
        {
            throw new ScenarioException($"{origin}: not a valid scenario: {ex.Message}", ex);
        }

        if (scenario is null)
        {
            throw new ScenarioException($"{origin}: the file is empty (null).");
        }

        scenario.Validate(origin);
        return scenario;
    }

    /// <summary>Parses and validates a scenario from JSON text.</summary>
    /// <param name="json">The JSON.</param>
    /// <param name="origin">A name for error messages.</param>
    /// <returns>The validated scenario.</returns>
    /// <exception cref="ScenarioException">The JSON is invalid or describes an invalid scenario.</exception>
    public static Scenario Parse(string json, string origin = "scenario")
    {
        ArgumentNullException.ThrowIfNull(json);
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        return Load(stream, origin);
    }

    /// <summary>Writes the scenario as JSON (camelCase, the file format).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, ScenarioJsonContext.Default.Scenario);

    /// <summary>Checks every field; throws one exception listing every problem.</summary>
    /// <param name="origin">A name for the message.</param>
    /// <exception cref="ScenarioException">Something is out of range, missing or inconsistent.</exception>
    public void Validate(string origin = "scenario")
    {
        var errors = new List<string>();
        void Check(bool ok, string message)
        {
            if (!ok)
            {
                errors.Add(message);
            }
        }

        static bool Positive(double v) => double.IsFinite(v) && v > 0;
        static bool NonNegative(double v) => double.IsFinite(v) && v >= 0;
        static bool Share(double v) => v is >= 0 and <= 1;
        static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

        Check(!string.IsNullOrWhiteSpace(Name), "name: required");
        Check(Positive(DurationSeconds) && DurationSeconds <= SimulationDefaults.MaxDurationSeconds, Inv($"durationSeconds: must be in (0, {SimulationDefaults.MaxDurationSeconds}]"));
        Check(NonNegative(WarmupSeconds) && WarmupSeconds <= SimulationDefaults.MaxDurationSeconds, Inv($"warmupSeconds: must be in [0, {SimulationDefaults.MaxDurationSeconds}]"));
        Check(Start is null || (Start >= ScenarioLimits.MinStart && Start <= ScenarioLimits.MaxStart), "start: must be between 0002-01-01 and 9998-01-01");
        Check(!string.IsNullOrWhiteSpace(Model), "model: required");
        ScenarioChecks.ModelId(errors, "model", Model);
        Check(Positive(GossipDelayMilliseconds) && GossipDelayMilliseconds <= 1_000, "gossipDelayMilliseconds: must be in (0, 1000]");
        Check(Positive(RequestTimeoutSeconds) && RequestTimeoutSeconds <= ScenarioLimits.MaxRequestSeconds, Inv($"requestTimeoutSeconds: must be in (0, {ScenarioLimits.MaxRequestSeconds}]"));
        Check(Positive(FailFastSeconds) && FailFastSeconds <= ScenarioLimits.MaxRequestSeconds, Inv($"failFastSeconds: must be in (0, {ScenarioLimits.MaxRequestSeconds}]"));
        Check(ApiDailyBudgetDollars is null || (NonNegative(ApiDailyBudgetDollars.Value) && ApiDailyBudgetDollars <= ScenarioLimits.MaxBudgetDollars), Inv($"apiDailyBudgetDollars: must be in [0, {ScenarioLimits.MaxBudgetDollars}]"));
        Check(CostModel is null || CostModel.Value.ValueKind == JsonValueKind.Object, "costModel: must be an object (the CostModel configuration section)");
        Check(Nodes is { Count: > 0 }, "nodes: at least one node is required");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < (Nodes?.Count ?? 0); i++)
        {
            SimulatedNode? n = Nodes![i];
            string at = $"nodes[{i}]";
            if (n is null)
            {
                errors.Add($"{at}: null");
                continue;
            }

            Check(ScenarioChecks.IsId(n.Id, 64), $"{at}.id: 1 to 64 characters required, without control characters");
            Check(n.Id is null || Encoding.UTF8.GetByteCount(n.Id) <= ScenarioLimits.MaxNodeIdUtf8Bytes, Inv($"{at}.id: at most {ScenarioLimits.MaxNodeIdUtf8Bytes} UTF-8 bytes (a node id travels in gossip)"));
            Check(string.IsNullOrWhiteSpace(n.Id) || ids.Add(n.Id), $"{at}.id: '{n.Id}' is used twice");
            Check(Share(n.BaseLoad), $"{at}.baseLoad: must be in [0, 1]");
            for (int m = 0; m < (n.Models?.Count ?? 0); m++)
            {
                SimulatedModel? model = n.Models![m];
                string mat = $"{at}.models[{m}]";
                if (model is null)
                {
                    errors.Add($"{mat}: null");
                    continue;
                }

                Check(!string.IsNullOrWhiteSpace(model.Id), $"{mat}.id: required");
                ScenarioChecks.ModelId(errors, $"{mat}.id", model.Id);
                Check(Positive(model.PrefillTokensPerSecond) && model.PrefillTokensPerSecond is >= ScenarioLimits.MinTokensPerSecond and <= ScenarioLimits.MaxNodePrefillTokensPerSecond, Inv($"{mat}.prefillTokensPerSecond: must be in [{ScenarioLimits.MinTokensPerSecond}, {ScenarioLimits.MaxNodePrefillTokensPerSecond}]"));
                Check(Positive(model.DecodeTokensPerSecond) && model.DecodeTokensPerSecond is >= ScenarioLimits.MinTokensPerSecond and <= ScenarioLimits.MaxDecodeTokensPerSecond, Inv($"{mat}.decodeTokensPerSecond: must be in [{ScenarioLimits.MinTokensPerSecond}, {ScenarioLimits.MaxDecodeTokensPerSecond}]"));
                Check(model.ParallelSlots is >= 1 and <= 1_024, $"{mat}.parallelSlots: must be 1 to 1024");
            }

            SimulatedPower p = n.Power ?? new();
            Check(NonNegative(p.BatteryWattHours) && p.BatteryWattHours <= 100_000, $"{at}.power.batteryWattHours: must be 0 (no battery) to 100000");
            Check(p.BatteryPercent is >= 0 and <= 100, $"{at}.power.batteryPercent: must be in [0, 100]");
            Check(NonNegative(p.IdleWatts) && NonNegative(p.ActiveWatts) && p.ActiveWatts >= p.IdleWatts && p.ActiveWatts <= ScenarioLimits.MaxWatts, Inv($"{at}.power: idleWatts and activeWatts must be in [0, {ScenarioLimits.MaxWatts}], active at least idle"));
            Check(NonNegative(p.ChargeWatts) && p.ChargeWatts <= ScenarioLimits.MaxWatts, Inv($"{at}.power.chargeWatts: must be in [0, {ScenarioLimits.MaxWatts}]"));
            Check(p.PluggedIn || p.BatteryWattHours > 0, $"{at}.power.pluggedIn: a node without a battery must be plugged in");
            if (n.Thermal is { } t)
            {
                Check(Positive(t.TimeConstantSeconds), $"{at}.thermal.timeConstantSeconds: must be positive");
                Check(t.ThrottleAbove is >= 0 and < 1, $"{at}.thermal.throttleAbove: must be in [0, 1)");
                Check(t.MaxThrottleRatio is >= 0 and <= 0.9, $"{at}.thermal.maxThrottleRatio: must be in [0, 0.9]");
            }

            SimulatedLink l = n.Network ?? new();
            Check(NonNegative(l.RttMilliseconds) && l.RttMilliseconds <= ScenarioLimits.MaxRttMilliseconds, Inv($"{at}.network.rttMilliseconds: must be in [0, {ScenarioLimits.MaxRttMilliseconds}]"));
            Check(l.BandwidthMegabitsPerSecond is >= ScenarioLimits.MinBandwidthMegabitsPerSecond and <= ScenarioLimits.MaxBandwidthMegabitsPerSecond, Inv($"{at}.network.bandwidthMegabitsPerSecond: must be in [{ScenarioLimits.MinBandwidthMegabitsPerSecond}, {ScenarioLimits.MaxBandwidthMegabitsPerSecond}]"));
            ScenarioChecks.Node(errors, at, n);
        }

        for (int i = 0; i < (Apis?.Count ?? 0); i++)
        {
            SimulatedApi? a = Apis![i];
            string at = $"apis[{i}]";
            if (a is null)
            {
                errors.Add($"{at}: null");
                continue;
            }

            Check(ScenarioChecks.IsId(a.Id, 64), $"{at}.id: 1 to 64 characters required, without control characters");
            Check(string.IsNullOrWhiteSpace(a.Id) || ids.Add(a.Id), $"{at}.id: '{a.Id}' is used twice (node and API ids share one space)");
            Check(ScenarioChecks.Price(a.InputDollarsPerMillionTokens), Inv($"{at}.inputDollarsPerMillionTokens: must be in [0, {ScenarioLimits.MaxDollarsPerMillionTokens}]"));
            Check(ScenarioChecks.Price(a.OutputDollarsPerMillionTokens), Inv($"{at}.outputDollarsPerMillionTokens: must be in [0, {ScenarioLimits.MaxDollarsPerMillionTokens}]"));
            Check(NonNegative(a.LatencySeconds) && a.LatencySeconds <= 60, $"{at}.latencySeconds: must be in [0, 60]");
            Check(a.DecodeTokensPerSecond is >= ScenarioLimits.MinTokensPerSecond and <= ScenarioLimits.MaxDecodeTokensPerSecond, Inv($"{at}.decodeTokensPerSecond: must be in [{ScenarioLimits.MinTokensPerSecond}, {ScenarioLimits.MaxDecodeTokensPerSecond}]"));
            Check(a.PrefillTokensPerSecond is >= ScenarioLimits.MinTokensPerSecond and <= ScenarioLimits.MaxApiPrefillTokensPerSecond, Inv($"{at}.prefillTokensPerSecond: must be in [{ScenarioLimits.MinTokensPerSecond}, {ScenarioLimits.MaxApiPrefillTokensPerSecond}]"));
            ScenarioChecks.Api(errors, at, a);
        }

        ScenarioChecks.CostModelSection(errors, CostModel);

        Workload w = Workload ?? new();
        Check(NonNegative(w.RequestsPerMinute) && w.RequestsPerMinute <= ScenarioLimits.MaxRequestsPerMinute, Inv($"workload.requestsPerMinute: must be in [0, {ScenarioLimits.MaxRequestsPerMinute}]"));
        Check(w.InteractiveShare is >= 0 and <= 1 && w.BackgroundShare is >= 0 and <= 1 && w.InteractiveShare + w.BackgroundShare <= 1, "workload.interactiveShare and backgroundShare: shares in [0, 1] adding up to at most 1");
        Check(Share(w.ConversationShare), "workload.conversationShare: must be in [0, 1]");
        Check(w.ConversationsPerRouter >= 1, "workload.conversationsPerRouter: must be at least 1");
        Check(w.MaxHistoryTokens is >= 0 and <= (int)ScenarioLimits.MaxTokens, Inv($"workload.maxHistoryTokens: must be in [0, {ScenarioLimits.MaxTokens}]"));
        CheckRange(errors, "workload.inputTokens", w.InputTokens, ScenarioLimits.MaxTokens);
        CheckRange(errors, "workload.outputTokens", w.OutputTokens, ScenarioLimits.MaxTokens);
        CheckRange(errors, "workload.payloadBytes", w.PayloadBytes, ScenarioLimits.MaxPayloadBytes);
        foreach (string r in w.Routers ?? [])
        {
            Check(Nodes?.Any(n => n?.Id == r) == true, $"workload.routers: '{r}' is not a node");
        }

        for (int i = 0; i < (w.Bursts?.Count ?? 0); i++)
        {
            Burst? b = w.Bursts![i];
            if (b is null)
            {
                errors.Add($"workload.bursts[{i}]: null");
                continue;
            }

            Check(NonNegative(b.AtSeconds) && b.AtSeconds <= SimulationDefaults.MaxDurationSeconds, Inv($"workload.bursts[{i}].atSeconds: must be in [0, {SimulationDefaults.MaxDurationSeconds}]"));
            Check(b.RequestsPerRouter is >= 1 and <= (int)ScenarioLimits.MaxRequests, Inv($"workload.bursts[{i}].requestsPerRouter: must be 1 to {ScenarioLimits.MaxRequests}"));
            Check(NonNegative(b.WithinSeconds) && b.WithinSeconds <= SimulationDefaults.MaxDurationSeconds, Inv($"workload.bursts[{i}].withinSeconds: must be in [0, {SimulationDefaults.MaxDurationSeconds}]"));
            foreach (string r in b.Routers ?? [])
            {
                Check(Nodes?.Any(n => n?.Id == r) == true, $"workload.bursts[{i}].routers: '{r}' is not a node");
            }
        }

        ScenarioChecks.Mix(errors, this, w);
        ScenarioChecks.RequestCount(errors, this, w);

        for (int i = 0; i < (Events?.Count ?? 0); i++)
        {
            ScenarioEvent? e = Events![i];
            string at = $"events[{i}]";
            if (e is null)
            {
                errors.Add($"{at}: null");
                continue;
            }

            Check(NonNegative(e.AtSeconds) && e.AtSeconds <= SimulationDefaults.MaxDurationSeconds, Inv($"{at}.atSeconds: must be in [0, {SimulationDefaults.MaxDurationSeconds}]"));
            if (e.Kind is ScenarioEventKind.Partition)
            {
                Check(e.Nodes is { Count: > 0 }, $"{at}.nodes: a partition needs the nodes on one side");
                foreach (string id in e.Nodes ?? [])
                {
                    Check(Nodes?.Any(n => n?.Id == id) == true, $"{at}.nodes: '{id}' is not a node");
                }
            }
            else if (e.Kind is ScenarioEventKind.Price)
            {
                ScenarioChecks.PriceEvent(errors, at, e, Apis);
            }
            else if (e.Kind is not ScenarioEventKind.Heal)
            {
                SimulatedNode? target = Nodes?.FirstOrDefault(n => n?.Id == e.Node);
                Check(target is not null, $"{at}.node: '{e.Node}' is not a node");
                if (e.Kind is ScenarioEventKind.Unplug && target is not null)
                {
                    Check((target.Power ?? new()).BatteryWattHours > 0, $"{at}: '{e.Node}' has no battery to run on when unplugged");
                }

                if (e.Kind is ScenarioEventKind.Slow)
                {
                    Check(e.Factor is > 1 and <= 1_000, $"{at}.factor: a slow node divides its token rates by a factor in (1, 1000]");
                }

                ScenarioChecks.NodeEvent(errors, at, e, target);
            }
        }

        if (errors.Count > 0)
        {
            throw new ScenarioException($"{origin}: {errors.Count} problem(s): {string.Join("; ", errors)}");
        }
    }

    /// <summary>The scenario's start of workload time.</summary>
    internal DateTimeOffset StartTime => Start ?? DefaultStart;

    private static void CheckRange(List<string> errors, string at, ValueRange? range, double max)
    {
        if (range is null)
        {
            errors.Add($"{at}: required");
            return;
        }

        if (!(double.IsFinite(range.Min) && double.IsFinite(range.Max) && range.Min >= 0 && range.Max >= range.Min))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}: needs 0 <= min <= max (min {range.Min}, max {range.Max})"));
        }
        else if (range.Max > max)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}.max: must be at most {max} (max {range.Max})"));
        }
    }
}

/// <summary>A scenario file or object is invalid; the message names each field and problem.</summary>
public sealed class ScenarioException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScenarioException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and where.</param>
    public ScenarioException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and where.</param>
    /// <param name="innerException">The parser's error.</param>
    public ScenarioException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A mesh node: what it serves, how it is powered, how it heats, its link.</summary>
public sealed class SimulatedNode
{
    /// <summary>The node id (1 to 64 characters).</summary>
    public string Id { get; set; } = "";

    /// <summary>The models it serves, with their true speeds (also advertised in its capabilities).</summary>
    public List<SimulatedModel> Models { get; set; } = [];

    /// <summary>CPU load from other work, 0 to 1, added to the load of served requests (default 0.05).</summary>
    public double BaseLoad { get; set; } = SimulationDefaults.BaseLoad;

    /// <summary>Power supply, battery and draw.</summary>
    public SimulatedPower Power { get; set; } = new();

    /// <summary>Heat and throttling; null for a node that never throttles.</summary>
    public SimulatedThermal? Thermal { get; set; }

    /// <summary>The node's network link.</summary>
    public SimulatedLink Network { get; set; } = new();

    /// <summary>How the node's gossip travels (delay, loss), apart from its requests; null for the scenario's defaults.</summary>
    public SimulatedGossip? Gossip { get; set; }

    /// <summary>Noise of the node's probes; null for the defaults.</summary>
    public SimulatedNoise? Noise { get; set; }

    /// <summary>Set when the node runs inference on a GPU; null for a CPU node.</summary>
    public SimulatedGpu? Gpu { get; set; }
}

/// <summary>A model a node serves, with its true throughput.</summary>
public sealed class SimulatedModel
{
    /// <summary>The model id requests name.</summary>
    public string Id { get; set; } = "";

    /// <summary>Prompt processing speed, tokens per second (default 200: a 7-8 B model at 4 bits on a laptop CPU, llama.cpp figures).</summary>
    public double PrefillTokensPerSecond { get; set; } = SimulationDefaults.PrefillTokensPerSecond;

    /// <summary>Generation speed, tokens per second (default 20: the same laptop).</summary>
    public double DecodeTokensPerSecond { get; set; } = SimulationDefaults.DecodeTokensPerSecond;

    /// <summary>Requests served in parallel (default 1: llama.cpp's default <c>--parallel</c>).</summary>
    public int ParallelSlots { get; set; } = 1;

    /// <summary>Parameters in billions (advertised; default 8).</summary>
    public double ParameterBillions { get; set; } = SimulationDefaults.ParameterBillions;

    /// <summary>Bits per weight (advertised; default 4.5, q4_K_M).</summary>
    public double QuantizationBits { get; set; } = SimulationDefaults.QuantizationBits;

    /// <summary>Longest context, tokens (advertised; default 8192).</summary>
    public int ContextTokens { get; set; } = SimulationDefaults.ContextTokens;
}

/// <summary>A node's power: mains or battery, capacity, draw.</summary>
public sealed class SimulatedPower
{
    /// <summary>Battery capacity, watt-hours; 0 for a machine without a battery (default 0).</summary>
    public double BatteryWattHours { get; set; }

    /// <summary>Charge at the start, percent (default 80).</summary>
    public double BatteryPercent { get; set; } = SimulationDefaults.BatteryPercent;

    /// <summary>True when on mains at the start (default true); a battery node unplugged runs on its battery.</summary>
    public bool PluggedIn { get; set; } = true;

    /// <summary>Draw when idle, watts (default 10).</summary>
    public double IdleWatts { get; set; } = SimulationDefaults.IdleWatts;

    /// <summary>Draw with every slot busy, watts (default 45); linear in between.</summary>
    public double ActiveWatts { get; set; } = SimulationDefaults.ActiveWatts;

    /// <summary>Power into the battery while plugged in and not full, watts (default 45: a laptop charger's net charge rate).</summary>
    public double ChargeWatts { get; set; } = SimulationDefaults.ChargeWatts;
}

/// <summary>How a node heats and throttles: heat follows utilisation with a time constant and throttles above a threshold.</summary>
public sealed class SimulatedThermal
{
    /// <summary>Time constant of heating and cooling, seconds (default 60: a CPU package with its cooler heats over about a minute).</summary>
    public double TimeConstantSeconds { get; set; } = SimulationDefaults.ThermalTimeConstantSeconds;

    /// <summary>Heat level (0 cold to 1 = steady state at full load) above which clocks throttle (default 0.7).</summary>
    public double ThrottleAbove { get; set; } = SimulationDefaults.ThrottleAbove;

    /// <summary>Share of clock lost at full heat (default 0.4: sustained-load clocks of thin laptops and small desktops fall 30-50 %).</summary>
    public double MaxThrottleRatio { get; set; } = SimulationDefaults.MaxThrottleRatio;
}

/// <summary>A node's network link to the rest of the mesh and the internet.</summary>
public sealed class SimulatedLink
{
    /// <summary>Round trip from this node to the LAN, milliseconds (default 5: home Wi-Fi); a path between two nodes pays half of each.</summary>
    public double RttMilliseconds { get; set; } = SimulationDefaults.RttMilliseconds;

    /// <summary>Bandwidth, megabits per second (default 100); a path is as fast as its slower end.</summary>
    public double BandwidthMegabitsPerSecond { get; set; } = SimulationDefaults.BandwidthMegabitsPerSecond;

    /// <summary>True when traffic over this link is paid per byte (a phone tether).</summary>
    public bool Metered { get; set; }
}

/// <summary>A paid API endpoint: the model it serves, its true price and how that price reaches the routers.</summary>
public sealed class SimulatedApi
{
    /// <summary>1,000,000 tokens: the unit the prices are given in.</summary>
    private const double TokensPerMillion = 1e6;

    /// <summary>The endpoint id (shares one id space with the nodes).</summary>
    public string Id { get; set; } = "";

    /// <summary>Dollars per million prompt tokens (default 0.15: gpt-4o-mini's list price, 2025).</summary>
    public double InputDollarsPerMillionTokens { get; set; } = SimulationDefaults.ApiInputDollarsPerMillionTokens;

    /// <summary>Dollars per million generated tokens (default 0.6: gpt-4o-mini's list price, 2025).</summary>
    public double OutputDollarsPerMillionTokens { get; set; } = SimulationDefaults.ApiOutputDollarsPerMillionTokens;

    /// <summary>Time to first byte, seconds (default 0.5), on top of the router's link.</summary>
    public double LatencySeconds { get; set; } = SimulationDefaults.ApiLatencySeconds;

    /// <summary>Generation speed, tokens per second (default 80: hosted models decode at 50 to 150 tokens/s).</summary>
    public double DecodeTokensPerSecond { get; set; } = SimulationDefaults.ApiDecodeTokensPerSecond;

    /// <summary>Prompt speed, tokens per second (default 5000).</summary>
    public double PrefillTokensPerSecond { get; set; } = SimulationDefaults.ApiPrefillTokensPerSecond;

    /// <summary>The model the endpoint serves; null for the scenario's <see cref="Scenario.Model"/>.</summary>
    public string? Model { get; set; }

    /// <summary>How its price reaches the catalog: known (default), stale or unknown.</summary>
    public ApiPriceStatus Price { get; set; }

    /// <summary>For a stale price: what the out-of-date table lists per million prompt tokens (required then, refused otherwise).</summary>
    public double? ListedInputDollarsPerMillionTokens { get; set; }

    /// <summary>For a stale price: what the out-of-date table lists per million generated tokens (required then, refused otherwise).</summary>
    public double? ListedOutputDollarsPerMillionTokens { get; set; }

    /// <summary>Published parameters, billions (for quality floors); null when unpublished (a floor then refuses it).</summary>
    public double? ParameterBillions { get; set; }

    /// <summary>Bits per weight as served (16 for most hosted models); null when unpublished.</summary>
    public double? QuantizationBits { get; set; }

    /// <summary>The model this endpoint serves in <paramref name="scenario"/>.</summary>
    internal string ModelIn(Scenario scenario) => Model ?? scenario.Model;

    /// <summary>What the endpoint truly charges for a request at its current prices, dollars: every prompt token (the history too) and every output token.</summary>
    internal double DollarsFor(SimRequest request) =>
        ((request.PromptTokens * InputDollarsPerMillionTokens) + (request.OutputTokens * OutputDollarsPerMillionTokens)) / TokensPerMillion;
}

/// <summary>The requests: Poisson arrivals at each router, bursts, sizes, urgency and conversations.</summary>
public sealed class Workload
{
    /// <summary>The nodes whose routers receive requests; empty for every node.</summary>
    public List<string> Routers { get; set; } = [];

    /// <summary>Mean Poisson arrival rate at each router, requests per minute (default 6).</summary>
    public double RequestsPerMinute { get; set; } = SimulationDefaults.RequestsPerMinute;

    /// <summary>Prompt tokens, log-uniform between min and max (default 200 to 2000).</summary>
    public ValueRange InputTokens { get; set; } = new() { Min = 200, Max = 2_000 };

    /// <summary>Generated tokens, log-uniform (default 50 to 400).</summary>
    public ValueRange OutputTokens { get; set; } = new() { Min = 50, Max = 400 };

    /// <summary>Bytes moved to the target and back, log-uniform (default 2 kB to 20 kB: a prompt and its answer as JSON).</summary>
    public ValueRange PayloadBytes { get; set; } = new() { Min = 2_000, Max = 20_000 };

    /// <summary>Share of requests that are interactive (default 0.2).</summary>
    public double InteractiveShare { get; set; } = SimulationDefaults.InteractiveShare;

    /// <summary>Share of requests that are background (default 0.2); the rest are normal.</summary>
    public double BackgroundShare { get; set; } = SimulationDefaults.BackgroundShare;

    /// <summary>Share of requests that continue a conversation (carry an affinity key) (default 0.5).</summary>
    public double ConversationShare { get; set; } = SimulationDefaults.ConversationShare;

    /// <summary>Conversations open at each router; a conversation request picks one uniformly (default 4).</summary>
    public int ConversationsPerRouter { get; set; } = SimulationDefaults.ConversationsPerRouter;

    /// <summary>
    /// The longest conversation history a prompt carries, tokens (default 4,096). Each answered turn
    /// adds its prompt and answer to the history, held in the KV cache of the node that served it;
    /// past this bound the client keeps only the last turn, a new prefix no cache holds.
    /// </summary>
    public int MaxHistoryTokens { get; set; } = SimulationDefaults.MaxHistoryTokens;

    /// <summary>Bursts: many requests at several routers at once.</summary>
    public List<Burst> Bursts { get; set; } = [];

    /// <summary>The request mix: classes by model and constraints; empty for every request asking for the scenario's model without constraints.</summary>
    public List<RequestClass> Mix { get; set; } = [];
}

/// <summary>A burst: each listed router receives a number of requests within a short window.</summary>
public sealed class Burst
{
    /// <summary>When the burst starts, seconds after the start.</summary>
    public double AtSeconds { get; set; }

    /// <summary>Requests each router receives.</summary>
    public int RequestsPerRouter { get; set; } = 10;

    /// <summary>The window they arrive in, uniformly, seconds (default 1).</summary>
    public double WithinSeconds { get; set; } = 1;

    /// <summary>The routers; empty for the workload's routers.</summary>
    public List<string> Routers { get; set; } = [];
}

/// <summary>A closed range of values [min, max]; drawn log-uniformly (uniform when min is 0 or equals max).</summary>
public sealed class ValueRange
{
    /// <summary>The smallest value.</summary>
    public double Min { get; set; }

    /// <summary>The largest value.</summary>
    public double Max { get; set; }
}

/// <summary>Something that happens at a time.</summary>
public sealed class ScenarioEvent
{
    /// <summary>When, seconds after the start.</summary>
    public double AtSeconds { get; set; }

    /// <summary>What happens.</summary>
    public ScenarioEventKind Kind { get; set; }

    /// <summary>The node it happens to (all kinds but partition and heal).</summary>
    public string? Node { get; set; }

    /// <summary>One side of a partition.</summary>
    public List<string>? Nodes { get; set; }

    /// <summary>For <see cref="ScenarioEventKind.Slow"/>: token rates are divided by this.</summary>
    public double? Factor { get; set; }

    /// <summary>
    /// The new value of a setting event: a load or heat share (0 to 1) for <c>load</c>, <c>gpuLoad</c>
    /// and <c>heat</c>; a throttle ratio (0 to 0.9) for <c>throttle</c>; percent for <c>battery</c>;
    /// watts for <c>charger</c>.
    /// </summary>
    public double? Value { get; set; }

    /// <summary>For <see cref="ScenarioEventKind.Price"/>: the API endpoint whose price changes.</summary>
    public string? Api { get; set; }

    /// <summary>For <see cref="ScenarioEventKind.Price"/>: the new true price per million prompt tokens, dollars (the routers' table does not learn it).</summary>
    public double? InputDollarsPerMillionTokens { get; set; }

    /// <summary>For <see cref="ScenarioEventKind.Price"/>: the new true price per million generated tokens, dollars.</summary>
    public double? OutputDollarsPerMillionTokens { get; set; }
}

/// <summary>Kinds of scenario events.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<ScenarioEventKind>))]
public enum ScenarioEventKind
{
    /// <summary>The node's power cord is pulled: it runs on its battery.</summary>
    Unplug = 0,

    /// <summary>The node is plugged in: mains, and its battery charges.</summary>
    Plug = 1,

    /// <summary>The node stops: it answers nothing (requests time out) and stops gossiping.</summary>
    Crash = 2,

    /// <summary>The node answers every request at once with an error, and keeps gossiping as if healthy.</summary>
    FailFast = 3,

    /// <summary>The node's token rates are divided by <see cref="ScenarioEvent.Factor"/>.</summary>
    Slow = 4,

    /// <summary>The node's fault (crash, fail-fast, slow) ends.</summary>
    Recover = 5,

    /// <summary>The listed nodes are cut off from the others (gossip and requests).</summary>
    Partition = 6,

    /// <summary>Every partition ends.</summary>
    Heal = 7,

    /// <summary>The node's CPU background load becomes <see cref="ScenarioEvent.Value"/> (0 to 1).</summary>
    Load = 8,

    /// <summary>The node's GPU background load becomes <see cref="ScenarioEvent.Value"/> (0 to 1; the node needs a <c>gpu</c>).</summary>
    GpuLoad = 9,

    /// <summary>The node's heat jumps to <see cref="ScenarioEvent.Value"/> (0 cold to 1 full-load steady state), then follows its load again.</summary>
    Heat = 10,

    /// <summary>The node is throttled by at least <see cref="ScenarioEvent.Value"/> (0 to 0.9) whatever its heat, until a throttle event with 0.</summary>
    Throttle = 11,

    /// <summary>The node's battery charge becomes <see cref="ScenarioEvent.Value"/> percent (the node needs a battery).</summary>
    Battery = 12,

    /// <summary>The node's charger delivers <see cref="ScenarioEvent.Value"/> watts into the battery (0: a charger too weak to charge).</summary>
    Charger = 13,

    /// <summary>An API endpoint's true price changes; the routers' price table keeps what it listed (a price goes stale).</summary>
    Price = 14,

    /// <summary>The node's gossip freezes: it neither sends nor receives gossip, but serves requests (its picture goes stale).</summary>
    GossipFreeze = 15,

    /// <summary>The node's gossip resumes.</summary>
    GossipThaw = 16,
}

/// <summary>Defaults of the scenario schema and the node model, each with its unit and reason.</summary>
public static class SimulationDefaults
{
    /// <summary>300 s: five minutes covers an unplug, a burst and a thermal cycle, and simulates in seconds.</summary>
    public const double DurationSeconds = 300;

    /// <summary>10 s: pull gossip at 200 ms with fanout 3 converges in a few rounds; ten seconds is ample and includes a heartbeat.</summary>
    public const double WarmupSeconds = 10;

    /// <summary>The longest simulated run, seconds (one day).</summary>
    public const double MaxDurationSeconds = 86_400;

    /// <summary>llama-3.1-8b: the model the library's own examples use.</summary>
    public const string Model = "llama-3.1-8b";

    /// <summary>5 ms: a one-way hop on home Wi-Fi.</summary>
    public const double GossipDelayMilliseconds = 5;

    /// <summary>30 s: a common HTTP client timeout for a request whose server has vanished.</summary>
    public const double RequestTimeoutSeconds = 30;

    /// <summary>5 ms: a server that refuses at once (HTTP 503 from an overloaded or broken model server).</summary>
    public const double FailFastSeconds = 0.005;

    /// <summary>0.05: background processes keep an idle machine at a few percent CPU.</summary>
    public const double BaseLoad = 0.05;

    /// <summary>200 tokens/s prefill: the library's prior (a 7-8 B model at 4 bits on a recent laptop CPU).</summary>
    public const double PrefillTokensPerSecond = 200;

    /// <summary>20 tokens/s decode: the library's prior for the same laptop.</summary>
    public const double DecodeTokensPerSecond = 20;

    /// <summary>8 billion parameters: llama-3.1-8b.</summary>
    public const double ParameterBillions = 8;

    /// <summary>4.5 bits per weight: q4_K_M.</summary>
    public const double QuantizationBits = 4.5;

    /// <summary>8192 tokens: llama.cpp's common served context.</summary>
    public const int ContextTokens = 8_192;

    /// <summary>80 %: a laptop that has been on its charger.</summary>
    public const double BatteryPercent = 80;

    /// <summary>10 W: a laptop idling with its screen on.</summary>
    public const double IdleWatts = 10;

    /// <summary>45 W: a laptop under full CPU load (package plus the rest of the system).</summary>
    public const double ActiveWatts = 45;

    /// <summary>45 W: the net charge rate of a 65 W laptop charger.</summary>
    public const double ChargeWatts = 45;

    /// <summary>60 s: heat follows load over about a minute.</summary>
    public const double ThermalTimeConstantSeconds = 60;

    /// <summary>0.7: throttling begins at 70 % of the full-load steady heat.</summary>
    public const double ThrottleAbove = 0.7;

    /// <summary>0.4: clock lost at full heat.</summary>
    public const double MaxThrottleRatio = 0.4;

    /// <summary>5 ms: home Wi-Fi round trip.</summary>
    public const double RttMilliseconds = 5;

    /// <summary>100 Mbit/s: home Wi-Fi.</summary>
    public const double BandwidthMegabitsPerSecond = 100;

    /// <summary>0.15 $/M input tokens: gpt-4o-mini (bundled price table, 2025).</summary>
    public const double ApiInputDollarsPerMillionTokens = 0.15;

    /// <summary>0.6 $/M output tokens: gpt-4o-mini.</summary>
    public const double ApiOutputDollarsPerMillionTokens = 0.6;

    /// <summary>0.5 s: a hosted API's time to first byte from a home connection.</summary>
    public const double ApiLatencySeconds = 0.5;

    /// <summary>80 tokens/s: the library's API decode prior.</summary>
    public const double ApiDecodeTokensPerSecond = 80;

    /// <summary>5000 tokens/s: the library's API prefill prior.</summary>
    public const double ApiPrefillTokensPerSecond = 5_000;

    /// <summary>6 requests per minute per router: one person's assistant use, busy.</summary>
    public const double RequestsPerMinute = 6;

    /// <summary>0.2 interactive.</summary>
    public const double InteractiveShare = 0.2;

    /// <summary>0.2 background.</summary>
    public const double BackgroundShare = 0.2;

    /// <summary>0.5 of requests continue a conversation.</summary>
    public const double ConversationShare = 0.5;

    /// <summary>4 open conversations per router.</summary>
    public const int ConversationsPerRouter = 4;

    /// <summary>4,096 tokens: half of llama.cpp's common 8,192-token context, leaving room for the new turn and its answer.</summary>
    public const int MaxHistoryTokens = 4_096;

    /// <summary>0.03: a CPU utilisation sample over one second wobbles by a few points (one standard deviation).</summary>
    public const double CpuNoise = 0.03;

    /// <summary>0.1 percent points: a battery gauge reads to about a tenth of a percent.</summary>
    public const double BatteryNoisePercent = 0.1;

    /// <summary>0.02: a frequency-based throttle ratio reads to a couple of points.</summary>
    public const double ThrottleNoise = 0.02;

    /// <summary>0.95: the largest share of the processor background work takes from inference, so a saturated machine is very slow, not infinitely slow.</summary>
    public const double MaxBackgroundShare = 0.95;

    /// <summary>600,000 ms: the longest per-node gossip delay (ten minutes: far past every staleness bound).</summary>
    public const double MaxGossipDelayMilliseconds = 600_000;

    /// <summary>180 days: the age of a price table holding a stale price, twice the library's 90-day <c>Pricing:MaxTableAge</c>, so the library flags it.</summary>
    public const int StalePriceTableAgeDays = 180;
}

/// <summary>
/// Source-generated JSON for scenarios (AOT-safe), camelCase; absent parts are not written as nulls,
/// so what <see cref="Scenario.ToJson"/> writes is valid against docs/scenario.schema.json.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(Scenario))]
internal sealed partial class ScenarioJsonContext : JsonSerializerContext;

/// <summary>
/// Enum values as the scenario format spells them (camelCase: <c>failFast</c>, <c>gpuLoad</c>), read
/// case-insensitively; numbers are refused, so <c>"kind": 99</c> is an error rather than an undefined kind.
/// </summary>
internal sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    where TEnum : struct, Enum;
