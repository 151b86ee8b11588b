using CostModel.Collection;
using CostModel.Factors;

namespace CostModel.MeshDemo;

/// <summary>What a simulated machine reports about itself right now. The script replaces it; the probes read it.</summary>
internal sealed record Conditions
{
    public PowerSource Source { get; init; } = PowerSource.Mains;

    /// <summary>Charge in percent; null for a machine without a battery.</summary>
    public double? BatteryPercent { get; init; }

    public ChargeState Charge { get; init; } = ChargeState.Full;

    /// <summary>What the battery delivers while discharging (the whole system's draw).</summary>
    public double BatteryWatts { get; init; }

    public double CpuUtilization { get; init; } = 0.1;

    /// <summary>One GPU's name, utilisation (0 to 1) and draw; null for a machine without a GPU.</summary>
    public (string Name, double Utilization, double Watts)? Gpu { get; init; }

    public ThermalLevel Thermal { get; init; } = ThermalLevel.Nominal;

    /// <summary>Share of clock lost to throttling (0 to 1).</summary>
    public double ThrottleRatio { get; init; }

    public double HottestCelsius { get; init; } = 55;
}

/// <summary>
/// A simulated peer: its conditions (set by the script) and the requests the demo is running on it.
/// Its probes report both as measured readings, so its collector, gossip adapter and every router
/// that hears it treat it exactly like a real machine.
/// </summary>
internal sealed class SimulatedMachine(string nodeId, Conditions initial)
{
    private const string Source = "demo script";

    private volatile Conditions _conditions = initial;
    private int _running;

    public string NodeId { get; } = nodeId;

    public Conditions Conditions
    {
        get => _conditions;
        set => _conditions = value;
    }

    /// <summary>Requests the demo is running on this machine now.</summary>
    public int Running => Volatile.Read(ref _running);

    public void Started() => Interlocked.Increment(ref _running);

    public void Finished() => Interlocked.Decrement(ref _running);

    /// <summary>One probe per signal group, each reading <see cref="Conditions"/> when the collector asks.</summary>
    public IEnumerable<ISignalProbe> Probes()
    {
        yield return new Probe("demo.power", SignalGroup.Power, ReadPower);
        yield return new Probe("demo.compute", SignalGroup.Compute, b => b.Compute = new ComputeFactors { CpuUtilization = Measured(Conditions.CpuUtilization, b) });
        yield return new Probe("demo.gpu", SignalGroup.Gpu, ReadGpu);
        yield return new Probe("demo.thermal", SignalGroup.Thermal, ReadThermal);
        yield return new Probe("demo.network", SignalGroup.Network, b => b.Network = new NetworkFactors { DefaultInterface = "eth0", Metered = Measured(false, b) });
        yield return new Probe("demo.pending", SignalGroup.Pending, b => b.Pending = new PendingWork { QueueDepth = Measured(0, b), InFlight = Measured(Running, b) });
    }

    private static Reading<T> Measured<T>(T value, SnapshotBuilder b)
        where T : struct => Reading.Measured(value, b.TimeProvider.GetUtcNow(), Source);

    private void ReadPower(SnapshotBuilder b)
    {
        Conditions c = Conditions;
        b.Power = c.BatteryPercent is { } percent
            ? new PowerFactors
            {
                Source = Measured(c.Source, b),
                BatteryCount = Measured(1, b),
                BatteryPercent = Measured(percent, b),
                ChargeState = Measured(c.Charge, b),
                BatteryRateWatts = Measured(c.Charge == ChargeState.Discharging ? c.BatteryWatts : 0, b),
            }
            : new PowerFactors { Source = Measured(PowerSource.Mains, b), BatteryCount = Measured(0, b) };
    }

    private void ReadGpu(SnapshotBuilder b)
    {
        Conditions c = Conditions;
        b.Gpu = c.Gpu is { } gpu
            ? new GpuFactors
            {
                DeviceCount = Measured(1, b),
                Devices = [new GpuDevice { Index = 0, Vendor = GpuVendor.Nvidia, Name = gpu.Name, Utilization = Measured(gpu.Utilization, b), PowerWatts = Measured(gpu.Watts, b) }],
            }
            : new GpuFactors { DeviceCount = Measured(0, b) };
    }

    private void ReadThermal(SnapshotBuilder b)
    {
        Conditions c = Conditions;
        b.Thermal = new ThermalFactors
        {
            Level = Measured(c.Thermal, b),
            ThrottleRatio = Measured(c.ThrottleRatio, b),
            HottestCelsius = Measured(c.HottestCelsius, b),
        };
    }

    private sealed class Probe(string name, SignalGroup group, Action<SnapshotBuilder> collect) : ISignalProbe
    {
        public string Name { get; } = name;

        public SignalGroup Group { get; } = group;

        public void Collect(SnapshotBuilder snapshot) => collect(snapshot);
    }
}
