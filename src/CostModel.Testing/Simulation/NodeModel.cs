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

    // Noise of the simulated probes (one standard deviation): a CPU utilisation sample over one
    // second wobbles by a few points; a battery gauge reads to about a tenth of a percent; a
    // frequency-based throttle ratio to a couple of points.
    private const double CpuNoise = 0.03;
    private const double BatteryNoisePercent = 0.1;
    private const double ThrottleNoise = 0.02;

    private readonly Random _noise;
    private long _updatedTicks;

    public NodeModel(SimulatedNode spec, string model, DateTimeOffset now, int seed)
    {
        Spec = spec;
        Id = spec.Id;
        Model = spec.Models.FirstOrDefault(m => string.Equals(m.Id, model, StringComparison.OrdinalIgnoreCase));
        Slots = Model?.ParallelSlots ?? 1;
        Power = spec.Power ?? new SimulatedPower();
        Thermal = spec.Thermal;
        Link = spec.Network ?? new SimulatedLink();
        HasBattery = Power.BatteryWattHours > 0;
        ChargeWattHours = HasBattery ? Power.BatteryWattHours * Power.BatteryPercent / 100 : 0;
        PluggedIn = Power.PluggedIn;
        _updatedTicks = now.UtcTicks;
        _noise = new Random(seed);
    }

    public SimulatedNode Spec { get; }

    public string Id { get; }

    /// <summary>The scenario model as this node serves it; null when it does not.</summary>
    public SimulatedModel? Model { get; }

    public int Slots { get; }

    public SimulatedPower Power { get; }

    public SimulatedThermal? Thermal { get; }

    public SimulatedLink Link { get; }

    public bool HasBattery { get; }

    public bool PluggedIn { get; private set; }

    public double ChargeWattHours { get; private set; }

    /// <summary>Heat, 0 (cold) to 1 (steady state at full load).</summary>
    public double Heat { get; private set; }

    /// <summary>Energy drawn from the battery since the start, watt-hours.</summary>
    public double DrainedWattHours { get; private set; }

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

    /// <summary>CPU busy share: the served requests' share of the slots plus the base load.</summary>
    public double Utilisation => IsDown ? 0 : Math.Min(1, Spec.BaseLoad + ((double)Running / Slots));

    public double Watts => IsDown ? 0 : Power.IdleWatts + ((Power.ActiveWatts - Power.IdleWatts) * Utilisation);

    public double ThrottleRatio
    {
        get
        {
            if (Thermal is not { } t || Heat <= t.ThrottleAbove)
            {
                return 0;
            }

            return Math.Min(t.MaxThrottleRatio, (Heat - t.ThrottleAbove) / (1 - t.ThrottleAbove) * t.MaxThrottleRatio);
        }
    }

    /// <summary>On battery (unplugged) at or below the floor.</summary>
    public bool BelowFloor(double floorPercent) => HasBattery && !PluggedIn && BatteryPercent <= floorPercent;

    /// <summary>Seconds of service for a request started now: prefill plus decode at the current clock and fault.</summary>
    public double ServiceSeconds(int inputTokens, int outputTokens)
    {
        SimulatedModel m = Model!;
        double speed = (1 - ThrottleRatio) / (Fault == NodeFault.Slow ? SlowFactor : 1);
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

        if (!HasBattery || Dead)
        {
            return false;
        }

        if (PluggedIn)
        {
            ChargeWattHours = Math.Min(Power.BatteryWattHours, ChargeWattHours + (Power.ChargeWatts * dt / SecondsPerHour));
            return false;
        }

        double drawn = Math.Min(ChargeWattHours, Watts * dt / SecondsPerHour);
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

    // --- what the simulated probes report: the truth at the current time plus seeded noise ---

    public PowerFactors ReadPower(DateTimeOffset t)
    {
        Update(t);
        const string source = "simulator";
        if (!HasBattery)
        {
            return new PowerFactors { Source = Reading.Measured(PowerSource.Mains, t, source), BatteryCount = Reading.Measured(0, t, source) };
        }

        double percent = Math.Clamp(BatteryPercent + (Gaussian() * BatteryNoisePercent), 0, 100);
        bool full = ChargeWattHours >= Power.BatteryWattHours;
        ChargeState state = !PluggedIn ? ChargeState.Discharging : full ? ChargeState.Full : ChargeState.Charging;
        double rate = !PluggedIn ? Watts : full ? 0 : Power.ChargeWatts;
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
        double cpu = Math.Clamp(Utilisation + (Gaussian() * CpuNoise), 0, 1);
        return new ComputeFactors { CpuUtilization = Reading.Measured(cpu, t, "simulator") };
    }

    public ThermalFactors ReadThermal(DateTimeOffset t)
    {
        Update(t);
        double ratio = ThrottleRatio;
        if (ratio > 0)
        {
            ratio = Math.Clamp(ratio + (Gaussian() * ThrottleNoise), 0, 1);
        }

        ThermalLevel level = ratio > 0 ? ThermalLevel.Serious : Heat > 0.5 ? ThermalLevel.Fair : ThermalLevel.Nominal;
        return new ThermalFactors
        {
            ThrottleRatio = Reading.Measured(ratio, t, "simulator"),
            Level = Reading.Measured(level, t, "simulator"),
            HottestCelsius = Reading.Measured(Math.Round(40 + (55 * Heat)), t, "simulator"),
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

    public Routing.RouteLease Lease { get; set; }

    public bool HasLease { get; set; }

    public bool Done { get; set; }

    public bool Succeeded { get; set; }

    public double LatencySeconds { get; set; }

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
