using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms;
using CostModel.Platforms.Windows.Compute;
using CostModel.Platforms.Windows.Container;
using CostModel.Platforms.Windows.Gpu;
using CostModel.Platforms.Windows.Network;
using CostModel.Platforms.Windows.Power;
using CostModel.Platforms.Windows.Thermal;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Fuzz;

/// <summary>
/// The Windows probes over hostile Win32 answers: a healthy Windows laptop on battery
/// (<see cref="WinMachine"/>) whose raw structures each input edits for one collection, the probes
/// built over those answers through their internal constructors (which run on any OS), and one
/// collection a second through the real collector (<c>AddCostModel()</c> with the probes registered
/// as <see cref="ISignalProbe"/> singletons, the failure reporter and metrics from DI, on a
/// <see cref="FakeTimeProvider"/>).
/// </summary>
/// <remarks>
/// <para>
/// Every Windows probe is built: power, thermal, GPU, network, container and compute, the GPU probe
/// over PDH, DXGI and NVML answers (<see cref="WinMachine.Gpu"/>). It reads its adapter list, its
/// PDH query and NVML's device list when it starts and every 30 s after, so an input that edits one
/// of those answers restarts it (<see cref="WinMachine.GpuRestart"/>, as a service restart would),
/// while an input that edits none of them leaves it running over what the last one edited until it
/// lists again; its counters and NVML readings are read each second. <c>AddPlatformProbes()</c> is not used: off Windows it
/// registers the Linux or macOS probes.
/// </para>
/// <para>
/// Invariants (each broken one throws <see cref="InvariantViolationException"/>): no probe reaches
/// the collector's last-resort catch; the snapshot round-trips through JSON with a reason for every
/// reading without a value, and a peer's checks take the node's own state record
/// (<see cref="SnapshotChecks"/>); no timer callback throws (on a live machine it would end the
/// process), nor the GPU probe's constructor or <c>Dispose</c>; and what the Windows probes document of
/// their readings (<see cref="CheckWindows"/>, <see cref="CheckGpu"/>).
/// </para>
/// </remarks>
internal sealed class WinMachineTarget : IFuzzTarget
{
    /// <summary>The machine's clock at its start.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The clock's move after the healthy collections, before the first input: the longest cadence a
    /// Windows probe reads on (the limits, <see cref="Cadence.LimitsInterval"/>, 30 s; the metered
    /// refresh, <see cref="WindowsMeteredMonitor.RefreshInterval"/>, 10 s; the route,
    /// <see cref="Cadence.RouteInterval"/>, 5 s), so that an input replayed on a fresh laptop reaches
    /// every call it edits.
    /// </summary>
    private static readonly TimeSpan SetupGap = new[] { Cadence.LimitsInterval, WindowsMeteredMonitor.RefreshInterval, Cadence.RouteInterval }.Max();

    private readonly WinMachine _machine = new();
    private readonly MachineRig _rig;
    private readonly WindowsNetworkProbe _network;
    private readonly RestartableProbe _gpu;

    /// <summary>Builds the healthy laptop and the probes over it.</summary>
    public WinMachineTarget()
    {
        // In WindowsProbes.Register's order (the collector runs them in group order).
        _rig = new MachineRig(Start, builder =>
        {
            IServiceCollection services = builder.Services;
            services.AddSingleton<ISignalProbe>(sp => new WindowsPowerProbe(_machine.Power, MachineRig.Failures(sp)));
            services.AddSingleton<ISignalProbe>(sp => new WindowsThermalProbe(_machine.ProcessorPower, MachineRig.Failures(sp)));
            services.AddSingleton(sp => new RestartableProbe(
                WindowsGpuProbe.ProbeName, SignalGroup.Gpu, () => new WindowsGpuProbe(MachineRig.Failures(sp), sp.GetRequiredService<TimeProvider>(), _machine.Gpu)));
            services.AddSingleton<ISignalProbe>(sp => sp.GetRequiredService<RestartableProbe>());
            services.AddSingleton(sp => new WindowsNetworkProbe(_machine.Network, _machine.Cost, MachineRig.Failures(sp), sp.GetRequiredService<TimeProvider>(), isWine: false));
            services.AddSingleton<ISignalProbe>(sp => sp.GetRequiredService<WindowsNetworkProbe>());
            services.AddSingleton<ISignalProbe>(sp => new WindowsContainerProbe(_machine.Jobs, MachineRig.Failures(sp)));
            services.AddSingleton<ISignalProbe>(sp => new WindowsComputeProbe(_machine.Compute, MachineRig.Failures(sp)));
        });
        _network = _rig.Services.GetRequiredService<WindowsNetworkProbe>();
        _gpu = _rig.Services.GetRequiredService<RestartableProbe>();

        _rig.TakeBaseline(() =>
        {
            _machine.Apply([]);
            Collect();
        }, SetupGap);
    }

    /// <inheritdoc />
    public long Inputs { get; private set; }

    /// <summary>The readings without a value in the last snapshot, as group.reading: reason.</summary>
    public IReadOnlyList<string> LastUnknown => _rig.LastUnknown;

    /// <inheritdoc />
    public bool Run(ReadOnlySpan<byte> input)
    {
        _machine.Apply(input);
        Inputs++;
        if (_machine.CostEdited)
        {
            // The monitor asks on its timer, every 10 s: an edited cost is asked at once, as after a route change.
            _network.Metered.Refresh();
        }

        if (_machine.GpuRestart)
        {
            _gpu.Restart(Context);
        }

        Collect();
        return _rig.NoWorseThanBaseline;
    }

    /// <inheritdoc />
    public string Describe(bool result) => SnapshotChecks.DescribeMachine(result, LastUnknown, "Windows laptop");

    /// <inheritdoc />
    public void Dispose() => _rig.Dispose();

    private void Collect()
    {
        NodeCostFactors snapshot = _rig.Collect(Context);
        CheckWindows(snapshot, Context());
        CheckGpu(snapshot, _rig.Time.GetUtcNow(), Context());
    }

    private string Context() => $"The Windows laptop's edited answers: {_machine.Describe()}";

    /// <summary>
    /// What the Windows probes document of their readings: the battery percentage within 0 to 100
    /// when known; the energy left at most <see cref="PowerPlausible.MaxRemainingOverFull"/> of full
    /// (the probe refuses more); available memory at most total, and used memory total less available
    /// unless a job memory limit is known (then used is the job's or the process's commit).
    /// </summary>
    private static void CheckWindows(NodeCostFactors snapshot, string context)
    {
        PowerFactors power = snapshot.Power;
        if (power.BatteryPercent.HasValue && power.BatteryPercent.GetValueOrDefault(0) is < 0 or > 100)
        {
            throw new InvariantViolationException($"The battery is at {power.BatteryPercent}. {context}");
        }

        SnapshotChecks.CheckBatteryBelowFull(power, PowerPlausible.MaxRemainingOverFull, context);

        // Under a job memory limit the compute probe documents other figures: total is the limit when
        // it binds, used the job's (or process's) commit, available at most what the limit leaves.
        ComputeFactors compute = snapshot.Compute;
        ResourceLimit limit = snapshot.Container.MemoryLimitBytes.GetValueOrDefault(ResourceLimit.Unlimited);
        if (compute.MemoryTotalBytes.HasValue && compute.MemoryAvailableBytes.HasValue)
        {
            long total = compute.MemoryTotalBytes.GetValueOrDefault(0);
            long available = compute.MemoryAvailableBytes.GetValueOrDefault(0);
            if (available > total
                || (limit.IsUnlimited && compute.MemoryUsedBytes.HasValue && compute.MemoryUsedBytes.GetValueOrDefault(0) != total - available))
            {
                throw new InvariantViolationException($"Memory: {compute.MemoryUsedBytes} used and {available} available of {total}. {context}");
            }
        }
    }

    /// <summary>
    /// What the Windows GPU probe documents of its readings: a measured GPU count is the number of
    /// devices listed; memory in use is at most the memory the device has when both are known, and
    /// that at most <see cref="Plausible.GpuMemoryBytes"/> (more is Unknown); utilisation comes from
    /// the engine counters or NVML, and a temperature, power or throttle state only from NVML on an
    /// NVIDIA GPU (Windows has no vendor-neutral API for them); and a reading with a value is at most
    /// <see cref="WindowsGpuProbe.MaxSampleAge"/> old (an older PDH sample reads Unknown, "stale").
    /// </summary>
    private static void CheckGpu(NodeCostFactors snapshot, DateTimeOffset now, string context)
    {
        GpuFactors gpu = snapshot.Gpu;
        if (gpu.DeviceCount.HasValue && gpu.DeviceCount.GetValueOrDefault(0) != gpu.Devices.Length)
        {
            throw new InvariantViolationException($"The GPU count is {gpu.DeviceCount} with {gpu.Devices.Length} devices listed. {context}");
        }

        foreach (GpuDevice device in gpu.Devices)
        {
            string problem = GpuProblem(device, now);
            if (problem.Length != 0)
            {
                throw new InvariantViolationException($"GPU {device.Index} ({device.Vendor}, \"{device.Name}\"): {problem}: {device}. {context}");
            }
        }
    }

    /// <summary>What <see cref="CheckGpu"/> finds wrong with one device, or "".</summary>
    private static string GpuProblem(GpuDevice device, DateTimeOffset now)
    {
        if (device.MemoryTotalBytes.TryGetValue(out long total) && total > Plausible.GpuMemoryBytes.Max)
        {
            return "its memory is above the plausible bound";
        }

        if (device.MemoryUsedBytes.TryGetValue(out long used) && device.MemoryTotalBytes.HasValue && used > total)
        {
            return "more memory is in use than it has";
        }

        if (device.Utilization.HasValue && device.Utilization.Source is not (GpuPdhSampler.EngineSource or NvmlUtilizationSource))
        {
            return "its utilisation has another source than the engine counters or NVML";
        }

        bool nvml = device.Vendor == GpuVendor.Nvidia;
        if ((device.TemperatureCelsius.HasValue && !(nvml && FromNvml(device.TemperatureCelsius.Source)))
            || (device.PowerWatts.HasValue && !(nvml && FromNvml(device.PowerWatts.Source)))
            || (device.Throttled.HasValue && !(nvml && FromNvml(device.Throttled.Source))))
        {
            return "a temperature, power or throttle state has a value without NVML";
        }

        return Stale(device.Utilization.ObservedAt, device.Utilization.HasValue, now)
            || Stale(device.MemoryUsedBytes.ObservedAt, device.MemoryUsedBytes.HasValue, now)
            || Stale(device.TemperatureCelsius.ObservedAt, device.TemperatureCelsius.HasValue, now)
            || Stale(device.PowerWatts.ObservedAt, device.PowerWatts.HasValue, now)
            ? "a reading with a value is older than the probe's maximum sample age"
            : "";
    }

    /// <summary>NVML's utilisation source (<c>NvmlGpuReader</c>'s).</summary>
    private const string NvmlUtilizationSource = "nvml:nvmlDeviceGetUtilizationRates";

    private static bool FromNvml(string? source) => source is not null && source.StartsWith("nvml:", StringComparison.Ordinal);

    private static bool Stale(DateTimeOffset? observedAt, bool hasValue, DateTimeOffset now) =>
        hasValue && (observedAt is not { } at || now - at > WindowsGpuProbe.MaxSampleAge);

    /// <summary>
    /// A probe that can be stopped and started again under the collector (whose probes are fixed
    /// when it is built): it collects through the probe running now, and <see cref="Restart"/>
    /// disposes that one and builds a new one, as a service restart would.
    /// </summary>
    /// <param name="name">The probe's name.</param>
    /// <param name="group">The probe's group.</param>
    /// <param name="start">Builds the probe.</param>
    private sealed class RestartableProbe(string name, SignalGroup group, Func<ISignalProbe> start) : ISignalProbe, IDisposable
    {
        private ISignalProbe _running = start();

        public string Name => name;

        public SignalGroup Group => group;

        public void Collect(SnapshotBuilder snapshot) => _running.Collect(snapshot);

        /// <summary>Disposes the running probe and builds a new one; either throwing breaks an invariant (a host's DI would fail there).</summary>
        /// <param name="context">What the input changed, for the message.</param>
        public void Restart(Func<string> context)
        {
            try
            {
                (_running as IDisposable)?.Dispose();
                _running = start();
            }
            catch (Exception ex)
            {
                throw new InvariantViolationException($"The {name} probe threw when it was stopped or started. {context()}", ex);
            }
        }

        public void Dispose() => (_running as IDisposable)?.Dispose();
    }
}
