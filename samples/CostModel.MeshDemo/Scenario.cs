using System.Globalization;
using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.MeshDemo;

/// <summary>A change of the view the demo waits for after an event, and how to say what the view now shows.</summary>
/// <param name="NodeId">The node whose record should change.</param>
/// <param name="Seen">True once the view's record shows the change.</param>
/// <param name="Describe">What the view shows, for the line printed when it does.</param>
internal sealed record Expectation(string NodeId, Func<MeshNode, bool> Seen, Func<MeshNode, string> Describe);

/// <summary>A scripted event: when (a share of the script), what it says, what it changes and what the view should come to show.</summary>
internal sealed record ScriptEvent(double At, string Phase, string Banner, Action Apply, IReadOnlyList<Expectation> Expectations);

/// <summary>
/// The mesh and its script: who serves the model at what speed, the paid API, the requests, and
/// the events that change the machines' conditions. Every figure is here, with why.
/// </summary>
internal sealed class Scenario
{
    /// <summary>The capability every request needs: a chat model (llama-3.1-8b at 4 bits on the mesh's machines, or the paid API).</summary>
    public const string Model = "chat";

    /// <summary>The paid fallback: GPT-4o at its list price in the bundled table (2.50 $ in, 10 $ out per million tokens).</summary>
    public const string ApiId = "openai:gpt-4o";

    public const string ApiPriceModel = "gpt-4o";

    // When the events happen, as shares of the script: four equal phases.
    public const double UnplugAt = 0.25;
    public const double ThrottleAt = 0.5;
    public const double RecoverAt = 0.75;

    /// <summary>
    /// The laptop is plugged in at 25 % and, once unplugged, drains to 8 % by <see cref="RecoverAt"/>:
    /// past its 10 % reserve (an afternoon compressed into the script). At 25 % a discharging
    /// battery's energy is priced at about 57 $/kWh (scarcity 20 $/kWh x 40 / 15, plus wear), which
    /// makes the laptop dearer than the desktop and the paid API for a background job; charging at
    /// 25 % it pays a quarter of that scarcity, and the laptop is the cheapest.
    /// </summary>
    public const double LaptopStartPercent = 25;

    public const double LaptopEmptyPercent = 8;

    /// <summary>60 W: a 16-inch laptop running an 8B model on its GPU draws 40 to 70 W from the battery.</summary>
    public const double LaptopBatteryWatts = 60;

    /// <summary>The desktop throttles hard: 60 % of its clock lost at 97 °C (a clogged fan, a hot room).</summary>
    public const double DesktopThrottleRatio = 0.6;

    /// <summary>The gpu-box is busy with someone's training job (92 % GPU, 350 W) until it finishes (3 %, 70 W).</summary>
    public const double GpuBusyUtilization = 0.92;

    public const double GpuFreeUtilization = 0.03;

    // The requests: 60 % background jobs, the rest turns of two conversations.
    public const double JobShare = 0.6;

    public static readonly string[] Conversations = ["chat-a", "chat-b"];

    public const string ThisMachine = "this-machine";
    public const string Laptop = "laptop";
    public const string Desktop = "desktop";
    public const string GpuBox = "gpu-box";

    /// <summary>A summary job: long prompt, background urgency (0.0005 $/s of waiting), so energy and money weigh.</summary>
    public static readonly RequestProfile Job = new(Model) { InputTokens = 1_200, OutputTokens = 250, PayloadBytes = 6_000, Urgency = Urgency.Background };

    /// <summary>A conversation turn: normal urgency (0.01 $/s), sticky to the node that holds its KV cache.</summary>
    public static RequestProfile Turn(string conversation) => new(Model) { InputTokens = 300, OutputTokens = 120, PayloadBytes = 2_000, Urgency = Urgency.Normal, AffinityKey = conversation };

    // What each node serves. llama.cpp figures for an 8B model at 4 bits: an M-class laptop GPU
    // decodes about 60 tokens/s, a desktop about 35, an RTX 4090 about 140; prefill is 10 to 40x faster.
    // This machine advertises no speed: the router assumes the library's prior (20 tokens/s) and says so.
    private static ServedModel Served(double? decode, double? prefill, int slots) => new(Model)
    {
        ParameterBillions = 8,
        QuantizationBits = 4.5,
        ContextTokens = 8_192,
        DecodeTokensPerSecond = decode,
        PrefillTokensPerSecond = prefill,
        ParallelSlots = slots,
    };

    public static ServedModel ThisMachineModel { get; } = Served(null, null, 1);

    public static IReadOnlyDictionary<string, ServedModel> PeerModels { get; } = new Dictionary<string, ServedModel>(StringComparer.Ordinal)
    {
        [Laptop] = Served(60, 800, 4),
        [Desktop] = Served(35, 400, 4),
        [GpuBox] = Served(140, 5_000, 8),
    };

    public static ApiEndpoint Api { get; } = new() { Id = ApiId, Model = Model, PriceModel = ApiPriceModel, ContextTokens = 128_000 };

    private static Conditions LaptopPluggedIn => new() { Source = PowerSource.Mains, BatteryPercent = LaptopStartPercent, Charge = ChargeState.Charging, CpuUtilization = 0.1 };

    private static Conditions DesktopCool => new() { CpuUtilization = 0.1, HottestCelsius = 62 };

    private static Conditions GpuBoxBusy => new() { CpuUtilization = 0.3, Gpu = ("RTX 4090", GpuBusyUtilization, 350), HottestCelsius = 78 };

    public Scenario()
    {
        Machines = new Dictionary<string, SimulatedMachine>(StringComparer.Ordinal)
        {
            [Laptop] = new(Laptop, LaptopPluggedIn),
            [Desktop] = new(Desktop, DesktopCool),
            [GpuBox] = new(GpuBox, GpuBoxBusy),
        };
        Events =
        [
            new(UnplugAt, "laptop unplugged",
                string.Create(CultureInfo.InvariantCulture, $"laptop unplugged at {LaptopStartPercent:0} %: on battery, {LaptopBatteryWatts:0} W, draining towards its 10 % reserve"),
                () => Update(Laptop, c => c with { Source = PowerSource.Battery, Charge = ChargeState.Discharging, BatteryWatts = LaptopBatteryWatts }),
                [
                    new(Laptop, n => n.Factors.Power.Source.GetValueOrDefault(PowerSource.Mains) == PowerSource.Battery,
                        n => $"laptop on battery at {Percent(n)}"),
                    new(Laptop, n => n.Factors.Power.BatteryPercent.GetValueOrDefault(100) <= ScoringDefaults.BatteryReserveFloorPercent,
                        n => $"laptop at its reserve ({Percent(n)}): refuses non-urgent work"),
                ]),
            new(ThrottleAt, "desktop throttling",
                string.Create(CultureInfo.InvariantCulture, $"desktop overheats: thermal Serious, 97 °C, {DesktopThrottleRatio:P0} of its clock lost"),
                () => Update(Desktop, c => c with { Thermal = ThermalLevel.Serious, ThrottleRatio = DesktopThrottleRatio, HottestCelsius = 97 }),
                [
                    new(Desktop, n => n.Factors.Thermal.Level.GetValueOrDefault(ThermalLevel.Nominal) == ThermalLevel.Serious,
                        n => string.Create(CultureInfo.InvariantCulture, $"desktop {n.Factors.Thermal.Level.Value}, throttled {n.Factors.Thermal.ThrottleRatio.GetValueOrDefault(0):P0}")),
                ]),
            new(RecoverAt, "gpu-box free",
                "gpu-box: the training job finishes, its RTX 4090 is free",
                () => Update(GpuBox, c => c with { Gpu = ("RTX 4090", GpuFreeUtilization, 70), HottestCelsius = 45 }),
                [
                    new(GpuBox, n => n.Factors.Gpu.Devices.Any(d => d.Utilization.GetValueOrDefault(1) < 0.5),
                        n => string.Create(CultureInfo.InvariantCulture, $"gpu-box GPU at {n.Factors.Gpu.Devices[0].Utilization.Value:P0}")),
                ]),
        ];
    }

    public IReadOnlyDictionary<string, SimulatedMachine> Machines { get; }

    public IReadOnlyList<ScriptEvent> Events { get; }

    /// <summary>The phases' names: before the first event, then after each.</summary>
    public IEnumerable<string> Phases => Events.Select(e => e.Phase).Prepend("all well");

    /// <summary>Back to the start: laptop plugged in, desktop cool, gpu-box busy.</summary>
    public void Reset()
    {
        Machines[Laptop].Conditions = LaptopPluggedIn;
        Machines[Desktop].Conditions = DesktopCool;
        Machines[GpuBox].Conditions = GpuBoxBusy;
    }

    /// <summary>Moves what changes continuously: an unplugged laptop drains towards <see cref="LaptopEmptyPercent"/>.</summary>
    /// <param name="share">How far into the script, 0 to 1.</param>
    public void Advance(double share)
    {
        if (Machines[Laptop].Conditions.Charge == ChargeState.Discharging)
        {
            double drained = Math.Clamp((share - UnplugAt) / (RecoverAt - UnplugAt), 0, 1);
            double percent = LaptopStartPercent - ((LaptopStartPercent - LaptopEmptyPercent) * drained);
            Update(Laptop, c => c with { BatteryPercent = Math.Round(percent, 1) });
        }
    }

    /// <summary>A machine's simulated speed for a target, to make up a plausible latency; null for the real node.</summary>
    public static ServedModel? ModelOf(string targetId) => PeerModels.GetValueOrDefault(targetId);

    private void Update(string machine, Func<Conditions, Conditions> change) => Machines[machine].Conditions = change(Machines[machine].Conditions);

    private static string Percent(MeshNode n) => n.Factors.Power.BatteryPercent.TryGetValue(out double p)
        ? string.Create(CultureInfo.InvariantCulture, $"{p:0} %")
        : "unknown %";
}
