using CostModel.Factors;

namespace CostModel.Testing.Simulation;

/// <summary>What is wrong with a node.</summary>
internal enum NodeFault
{
    None = 0,
    Crashed = 1,
    FailFast = 2,
    Slow = 3,
}

/// <summary>
/// The true physical state of one simulated node: battery, heat, load and faults, integrated
/// exactly between events (load is constant between two events). See docs/simulation.md.
/// </summary>
internal sealed class NodeModel
{
    private const double SecondsPerHour = 3_600;

    // Heat shown as a temperature: 40 C cold, 95 C at full-load steady state (a laptop CPU package).
    private const double ColdCelsius = 40;
    private const double HeatSpanCelsius = 55;

    // Heat above which the thermal level reads Fair (half way to the full-load steady state).
    private const double FairHeat = 0.5;

    private readonly Random _noise;
    private long _updatedTicks;

    public NodeModel(SimulatedNode spec, string model, DateTimeOffset now, int seed)
    {
        Spec = spec;
        Id = spec.Id;
        Models = spec.Models ?? [];
        Model = Models.FirstOrDefault(m => string.Equals(m.Id, model, StringComparison.OrdinalIgnoreCase));

        // One server process per node: its slots are shared by every model it serves.
        Slots = Model?.ParallelSlots ?? (Models.Count > 0 ? Models.Max(m => m.ParallelSlots) : 1);
        Power = spec.Power ?? new SimulatedPower();
        Thermal = spec.Thermal;
        Link = spec.Network ?? new SimulatedLink();
        Noise = spec.Noise ?? new SimulatedNoise();
        HasGpu = spec.Gpu is not null;
        BackgroundLoad = spec.BaseLoad;
        GpuBackgroundLoad = spec.Gpu?.BaseLoad ?? 0;
        ChargeWatts = Power.ChargeWatts;
        HasBattery = Power.BatteryWattHours > 0;
        ChargeWattHours = HasBattery ? Power.BatteryWattHours * Power.BatteryPercent / 100 : 0;
        PluggedIn = Power.PluggedIn;
        _updatedTicks = now.UtcTicks;
        _noise = new Random(seed);
    }

    public SimulatedNode Spec { get; }

    public string Id { get; }

    /// <summary>Every model the node serves.</summary>
    public IReadOnlyList<SimulatedModel> Models { get; }

    /// <summary>The scenario's main model as this node serves it; null when it does not.</summary>
    public SimulatedModel? Model { get; }

    public int Slots { get; }

    public SimulatedPower Power { get; }

    public SimulatedThermal? Thermal { get; }

    public SimulatedLink Link { get; }

    /// <summary>How noisy the node's probes are.</summary>
    public SimulatedNoise Noise { get; }

    /// <summary>True when inference runs on a GPU (its load is reported as the GPU's utilisation).</summary>
    public bool HasGpu { get; }

    /// <summary>Load of other work on the processor that runs inference (CPU, or GPU when <see cref="HasGpu"/>), 0 to 1; it takes its share of the clock.</summary>
    public double InferenceBackgroundLoad => HasGpu ? GpuBackgroundLoad : BackgroundLoad;

    /// <summary>CPU load of other work, 0 to 1 (the spec's base load until a <c>load</c> event).</summary>
    public double BackgroundLoad { get; set; }

    /// <summary>GPU load of other work, 0 to 1 (a <c>gpuLoad</c> event).</summary>
    public double GpuBackgroundLoad { get; set; }

    /// <summary>A throttle the machine imposes regardless of heat (an OS power mode, a hot room's fan curve), 0 to 0.9.</summary>
    public double ForcedThrottleRatio { get; set; }

    /// <summary>Power into the battery while plugged in and not full, watts (a <c>charger</c> event changes it).</summary>
    public double ChargeWatts { get; set; }

    /// <summary>True while the node's gossip is frozen: it neither sends nor receives gossip, but serves requests.</summary>
    public bool GossipFrozen { get; set; }

    public bool HasBattery { get; }

    public bool PluggedIn { get; private set; }

    public double ChargeWattHours { get; private set; }

    /// <summary>Heat, 0 (cold) to 1 (steady state at full load).</summary>
    public double Heat { get; private set; }

    /// <summary>Energy drawn from the battery since the start, watt-hours.</summary>
    public double DrainedWattHours { get; private set; }

    /// <summary>Energy above idle spent serving requests while on mains, watt-hours (what the work cost in electricity).</summary>
    public double WorkMainsWattHours { get; private set; }

    /// <summary>Energy above idle spent serving requests while on battery, watt-hours (what the work cost the battery).</summary>
    public double WorkBatteryWattHours { get; private set; }

    public NodeFault Fault { get; set; }

    public double SlowFactor { get; set; } = 1;

    /// <summary>True when the battery ran empty: the machine is off.</summary>
    public bool Dead { get; private set; }

    public int Running { get; set; }

    public Queue<SimRequest> Waiting { get; } = new();

    /// <summary>Counts the requests reaching the node, for the arrival rate its pending-work probe reports.</summary>
    public ArrivalRateMeter? Arrivals { get; init; }

    public List<SimRequest> Active { get; } = [];

    public bool IsDown => Fault == NodeFault.Crashed || Dead;

    public double BatteryPercent => HasBattery ? Math.Clamp(ChargeWattHours / Power.BatteryWattHours * 100, 0, 100) : 0;

    /// <summary>The served requests' share of the slots.</summary>
    public double WorkShare => IsDown ? 0 : (double)Running / Slots;

    /// <summary>Busy share of the processor that runs inference: the served requests' share of the slots plus its background load.</summary>
    public double Utilisation => IsDown ? 0 : Math.Min(1, InferenceBackgroundLoad + WorkShare);

    /// <summary>CPU busy share (on a GPU node, the CPU carries only its background load).</summary>
    public double CpuUtilisation => IsDown ? 0 : HasGpu ? BackgroundLoad : Utilisation;

    public double Watts => IsDown ? 0 : Power.IdleWatts + ((Power.ActiveWatts - Power.IdleWatts) * Utilisation);

    public double ThrottleRatio
    {
        get
        {
            double heat = 0;
            if (Thermal is { } t && Heat > t.ThrottleAbove)
            {
                heat = Math.Min(t.MaxThrottleRatio, (Heat - t.ThrottleAbove) / (1 - t.ThrottleAbove) * t.MaxThrottleRatio);
            }

            return Math.Max(heat, ForcedThrottleRatio);
        }
    }

    /// <summary>True when the node serves the model.</summary>
    public bool Serves(string model) => Find(model) is not null;

    /// <summary>The node's model of that id, or null.</summary>
    public SimulatedModel? Find(string model)
    {
        foreach (SimulatedModel m in Models)
        {
            if (string.Equals(m.Id, model, StringComparison.OrdinalIgnoreCase))
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>On battery (unplugged) at or below the floor.</summary>
    public bool BelowFloor(double floorPercent) => HasBattery && !PluggedIn && BatteryPercent <= floorPercent;

    /// <summary>Seconds of service of the scenario's main model for a request started now.</summary>
    public double ServiceSeconds(int inputTokens, int outputTokens) => ServiceSeconds(Model!, inputTokens, outputTokens);

    /// <summary>Seconds of service for the request started now on this node (its model; the prompt less what this node's KV cache holds).</summary>
    public double ServiceSeconds(SimRequest r) => ServiceSeconds(Find(r.Model) ?? Model!, r.PrefillTokensOn(Id), r.OutputTokens);

    /// <summary>Seconds of service: prefill plus decode at the current clock, background load and fault.</summary>
    public double ServiceSeconds(SimulatedModel m, int inputTokens, int outputTokens)
    {
        // Other work takes its share of the processor; at most MaxBackgroundShare of it, so a
        // fully loaded machine is very slow rather than infinitely slow.
        double free = 1 - Math.Min(InferenceBackgroundLoad, SimulationDefaults.MaxBackgroundShare);
        double speed = (1 - ThrottleRatio) * free / (Fault == NodeFault.Slow ? SlowFactor : 1);
        return ((inputTokens / m.PrefillTokensPerSecond) + (outputTokens / m.DecodeTokensPerSecond)) / speed;
    }

    /// <summary>Integrates battery and heat up to <paramref name="now"/>; idempotent.</summary>
    /// <returns>True when the battery ran empty in this step.</returns>
    public bool Update(DateTimeOffset now)
    {
        long ticks = now.UtcTicks;
        if (ticks <= _updatedTicks)
        {
            return false;
        }

        double dt = TimeSpan.FromTicks(ticks - _updatedTicks).TotalSeconds;
        _updatedTicks = ticks;
        double u = Utilisation;
        if (Thermal is { } t)
        {
            Heat = u + ((Heat - u) * Math.Exp(-dt / t.TimeConstantSeconds));
        }

        double workWattHours = IsDown ? 0 : (Power.ActiveWatts - Power.IdleWatts) * Math.Min(WorkShare, 1 - Math.Min(1, InferenceBackgroundLoad)) * dt / SecondsPerHour;
        if (!HasBattery || Dead || PluggedIn)
        {
            WorkMainsWattHours += workWattHours;
        }

        if (!HasBattery || Dead)
        {
            return false;
        }

        if (PluggedIn)
        {
            ChargeWattHours = Math.Min(Power.BatteryWattHours, ChargeWattHours + (ChargeWatts * dt / SecondsPerHour));
            return false;
        }

        double drawn = Math.Min(ChargeWattHours, Watts * dt / SecondsPerHour);
        WorkBatteryWattHours += Math.Min(workWattHours, drawn);
        ChargeWattHours -= drawn;
        DrainedWattHours += drawn;
        if (ChargeWattHours <= 0)
        {
            Dead = true;
            return true;
        }

        return false;
    }

    public void SetPluggedIn(bool plugged) => PluggedIn = plugged;

    /// <summary>Sets the charge (a <c>battery</c> event: a swap, a gauge recalibration), percent.</summary>
    public void SetBatteryPercent(double percent) => ChargeWattHours = HasBattery ? Power.BatteryWattHours * Math.Clamp(percent, 0, 100) / 100 : 0;

    /// <summary>Sets the heat level (a <c>heat</c> event: a hot room, a blocked fan); it then follows the load again.</summary>
    public void SetHeat(double heat) => Heat = Math.Clamp(heat, 0, 1);

    /// <summary>What the node advertises: every model it serves, with its advertised speeds and size.</summary>
    public NodeCapabilities Capabilities() => new(Id, 1)
    {
        Models = [.. Models.Select(m => new ServedModel(m.Id)
        {
            ParameterBillions = m.ParameterBillions,
            QuantizationBits = m.QuantizationBits,
            ContextTokens = m.ContextTokens,
            PrefillTokensPerSecond = m.PrefillTokensPerSecond,
            DecodeTokensPerSecond = m.DecodeTokensPerSecond,
            ParallelSlots = m.ParallelSlots,
        })],
    };

    // --- what the simulated probes report: the truth at the current time plus seeded noise ---

    public PowerFactors ReadPower(DateTimeOffset t)
    {
        Update(t);
        const string source = "simulator";
        if (!HasBattery)
        {
            return new PowerFactors { Source = Reading.Measured(PowerSource.Mains, t, source), BatteryCount = Reading.Measured(0, t, source) };
        }

        double percent = Math.Clamp(BatteryPercent + (Gaussian() * Noise.BatteryPercent), 0, 100);
        bool full = ChargeWattHours >= Power.BatteryWattHours;
        ChargeState state = !PluggedIn ? ChargeState.Discharging : full ? ChargeState.Full : ChargeWatts > 0 ? ChargeState.Charging : ChargeState.NotCharging;
        double rate = !PluggedIn ? Watts : full ? 0 : ChargeWatts;
        return new PowerFactors
        {
            Source = Reading.Measured(PluggedIn ? PowerSource.Mains : PowerSource.Battery, t, source),
            BatteryCount = Reading.Measured(1, t, source),
            BatteryPercent = Reading.Measured(percent, t, source),
            ChargeState = Reading.Measured(state, t, source),
            BatteryRateWatts = Reading.Measured(rate, t, source),
            RemainingWattHours = Reading.Measured(ChargeWattHours, t, source),
            FullWattHours = Reading.Measured(Power.BatteryWattHours, t, source),
        };
    }

    public ComputeFactors ReadCompute(DateTimeOffset t)
    {
        Update(t);
        double cpu = Math.Clamp(CpuUtilisation + (Gaussian() * Noise.CpuUtilization), 0, 1);
        return new ComputeFactors { CpuUtilization = Reading.Measured(cpu, t, "simulator") };
    }

    /// <summary>A GPU node's one device, its utilisation with the same noise as the CPU's; no GPU group otherwise.</summary>
    public GpuFactors ReadGpu(DateTimeOffset t)
    {
        Update(t);
        if (!HasGpu)
        {
            return new GpuFactors();
        }

        double gpu = Math.Clamp(Utilisation + (Gaussian() * Noise.CpuUtilization), 0, 1);
        return new GpuFactors
        {
            DeviceCount = Reading.Measured(1, t, "simulator"),
            Devices = [new GpuDevice { Index = 0, Name = "simulated", Utilization = Reading.Measured(gpu, t, "simulator") }],
        };
    }

    public ThermalFactors ReadThermal(DateTimeOffset t)
    {
        Update(t);
        double ratio = ThrottleRatio;
        if (ratio > 0)
        {
            ratio = Math.Clamp(ratio + (Gaussian() * Noise.ThrottleRatio), 0, 1);
        }

        ThermalLevel level = ratio > 0 ? ThermalLevel.Serious : Heat > FairHeat ? ThermalLevel.Fair : ThermalLevel.Nominal;
        return new ThermalFactors
        {
            ThrottleRatio = Reading.Measured(ratio, t, "simulator"),
            Level = Reading.Measured(level, t, "simulator"),
            HottestCelsius = Reading.Measured(Math.Round(ColdCelsius + (HeatSpanCelsius * Heat)), t, "simulator"),
        };
    }

    public NetworkFactors ReadNetwork(DateTimeOffset t) => new()
    {
        DefaultInterface = Link.Metered ? "wwan0" : "wlan0",
        Metered = Reading.Measured(Link.Metered, t, "simulator"),
        BandwidthBitsPerSecond = Reading.Measured(Link.BandwidthMegabitsPerSecond * 1e6, t, "simulator"),
    };

    public PendingWork ReadPending(DateTimeOffset t) => new()
    {
        QueueDepth = Reading.Measured(Waiting.Count, t, "simulator"),
        InFlight = Reading.Measured(Running, t, "simulator"),
        ArrivalsPerSecond = Arrivals?.Read() ?? Reading.Unknown<double>("no arrival meter", t),
    };

    private double Gaussian()
    {
        // Box-Muller: one standard normal draw from two uniform ones.
        double u1 = 1 - _noise.NextDouble();
        double u2 = _noise.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

/// <summary>One simulated request and its progress.</summary>
internal sealed class SimRequest
{
    public required int Index { get; init; }

    /// <summary>When the workload drew the request, seconds after the start.</summary>
    public required double DrawnSeconds { get; init; }

    /// <summary>When it reaches its router: when drawn, or, for a conversation's turn drawn while the previous one is unanswered, when that answer arrives.</summary>
    public double ArrivalSeconds { get; set; }

    public required string Router { get; init; }

    /// <summary>The new turn's prompt tokens (the conversation's history comes on top, see <see cref="HistoryTokens"/>).</summary>
    public required int InputTokens { get; init; }

    public required int OutputTokens { get; init; }

    public required long PayloadBytes { get; init; }

    public required Scoring.Urgency Urgency { get; init; }

    /// <summary>The model it asks for.</summary>
    public required string Model { get; init; }

    /// <summary>The request class of the workload's mix it was drawn from; null for the scenario's plain workload.</summary>
    public RequestClass? Class { get; init; }

    public string? AffinityKey { get; init; }

    /// <summary>Earlier turns of its conversation the prompt carries, tokens (set when it arrives; 0 outside a conversation).</summary>
    public int HistoryTokens { get; set; }

    /// <summary>The node whose KV cache holds that history when the request arrives; null when none does.</summary>
    public string? CachedOn { get; set; }

    /// <summary>The whole prompt: the history plus the new turn, tokens.</summary>
    public int PromptTokens => HistoryTokens + InputTokens;

    /// <summary>The history tokens a KV cache can spare the prefill of: the history when some node holds it, else 0.</summary>
    public int CachedTokens => CachedOn is null ? 0 : HistoryTokens;

    /// <summary>The burst it belongs to; -1 for ordinary arrivals.</summary>
    public int Burst { get; init; } = -1;

    public string? Target { get; set; }

    public bool ToApi { get; set; }

    /// <summary>What the API endpoint charges for it, dollars (fixed when it is sent).</summary>
    public double ApiDollars { get; set; }

    public Routing.RouteLease Lease { get; set; }

    public bool HasLease { get; set; }

    public bool Done { get; set; }

    public bool Succeeded { get; set; }

    public double LatencySeconds { get; set; }

    /// <summary>The library router's predicted latency of the target it chose, seconds (its explanation's); NaN under the other policies.</summary>
    public double PredictedSeconds { get; set; } = double.NaN;

    /// <summary>Outbound network time, seconds, added after service.</summary>
    public double ReturnSeconds { get; set; }

    /// <summary>Inbound network time, seconds.</summary>
    public double SendSeconds { get; set; }

    /// <summary>When service ends (virtual ticks), while running.</summary>
    public long ServiceEndTicks { get; set; }

    /// <summary>Prompt tokens <paramref name="target"/> must prefill: all of them, less the history when its KV cache holds it.</summary>
    public int PrefillTokensOn(string? target) =>
        target is not null && string.Equals(target, CachedOn, StringComparison.Ordinal) ? InputTokens : PromptTokens;
}
