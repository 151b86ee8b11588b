using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms;
using CostModel.Platforms.Windows.Compute;
using CostModel.Platforms.Windows.Container;
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
/// The power, thermal, compute, container and network probes are built; the GPU probe is not (its
/// PDH, DXGI and NVML seams answer handles, counter arrays and adapter lists rather than one
/// structure each, a larger fake than this target's), so the GPU group reads as the collector's
/// default for a group no probe fills. <c>AddPlatformProbes()</c> is not used: off Windows it
/// registers the Linux or macOS probes.
/// </para>
/// <para>
/// Invariants (each broken one throws <see cref="InvariantViolationException"/>): no probe reaches
/// the collector's last-resort catch; the snapshot round-trips through JSON with a reason for every
/// reading without a value, and a peer's checks take the node's own state record
/// (<see cref="SnapshotChecks"/>); and what the Windows probes document of their readings
/// (<see cref="CheckWindows"/>).
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

    /// <summary>Builds the healthy laptop and the probes over it.</summary>
    public WinMachineTarget()
    {
        // In WindowsProbes.Register's order (the collector runs them in group order), the GPU left out.
        _rig = new MachineRig(Start, builder =>
        {
            IServiceCollection services = builder.Services;
            services.AddSingleton<ISignalProbe>(sp => new WindowsPowerProbe(_machine.Power, MachineRig.Failures(sp)));
            services.AddSingleton<ISignalProbe>(sp => new WindowsThermalProbe(_machine.ProcessorPower, MachineRig.Failures(sp)));
            services.AddSingleton(sp => new WindowsNetworkProbe(_machine.Network, _machine.Cost, MachineRig.Failures(sp), sp.GetRequiredService<TimeProvider>(), isWine: false));
            services.AddSingleton<ISignalProbe>(sp => sp.GetRequiredService<WindowsNetworkProbe>());
            services.AddSingleton<ISignalProbe>(sp => new WindowsContainerProbe(_machine.Jobs, MachineRig.Failures(sp)));
            services.AddSingleton<ISignalProbe>(sp => new WindowsComputeProbe(_machine.Compute, MachineRig.Failures(sp)));
        });
        _network = _rig.Services.GetRequiredService<WindowsNetworkProbe>();

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

        Collect();
        return _rig.NoWorseThanBaseline;
    }

    /// <inheritdoc />
    public string Describe(bool result) => SnapshotChecks.DescribeMachine(result, LastUnknown, "Windows laptop");

    /// <inheritdoc />
    public void Dispose() => _rig.Dispose();

    private void Collect() => CheckWindows(_rig.Collect(Context), Context());

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
}
