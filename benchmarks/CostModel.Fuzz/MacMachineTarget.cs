using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms;
using CostModel.Platforms.MacOS.Compute;
using CostModel.Platforms.MacOS.Container;
using CostModel.Platforms.MacOS.Gpu;
using CostModel.Platforms.MacOS.Network;
using CostModel.Platforms.MacOS.Power;
using CostModel.Platforms.MacOS.Thermal;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Fuzz;

/// <summary>
/// The macOS probes over hostile OS answers: a healthy Apple-silicon MacBook on battery
/// (<see cref="MacMachine"/>) whose answers each input edits for one collection, the probes built
/// over those answers, and one collection a second through the real collector
/// (<c>AddCostModel()</c> with the probes registered as <see cref="ISignalProbe"/> singletons, the
/// failure reporter and metrics from DI, on a <see cref="FakeTimeProvider"/>).
/// </summary>
/// <remarks>
/// <para>
/// The probes are built as the library builds them where it can be done off macOS: the GPU and
/// compute probes through their internal constructors over a source (<see cref="MacGpuProbe"/>,
/// <see cref="MacComputeProbe"/>), the container probe as it is. The power, thermal and network
/// probe classes are <c>[SupportedOSPlatform("macos")]</c> shells whose only constructor opens the
/// native sources, so they cannot be built here: their platform-neutral readers
/// (<see cref="MacPowerReader"/>, <see cref="MacThermalReader"/>, <see cref="MacNetworkReader"/>),
/// which hold every rule, are built over the fakes instead and collected under the probes' names and
/// groups by the one line each shell's <c>Collect</c> is. <c>AddPlatformProbes()</c> is not used:
/// off macOS it registers the Linux or Windows probes.
/// </para>
/// <para>
/// Invariants (each broken one throws <see cref="InvariantViolationException"/>): no probe reaches
/// the collector's last-resort catch; the snapshot round-trips through JSON with a reason for every
/// reading without a value, and a peer's checks take the node's own state record
/// (<see cref="SnapshotChecks"/>); and what the macOS probes document of their readings
/// (<see cref="CheckMac"/>). The model's own guards (a percentage within 0 to 100, a rate within
/// 10 kW, no NaN) throw inside a probe, so the first invariant covers them.
/// </para>
/// </remarks>
internal sealed class MacMachineTarget : IFuzzTarget
{
    /// <summary>The machine's clock at its start.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The clock's move after the healthy collections, before the first input: the longest cadence a
    /// macOS probe reads on (the core count, <see cref="Cadence.LimitsInterval"/>, 30 s; the battery
    /// entry, <see cref="MacPowerReader.RegistryInterval"/>, 10 s; the dynamic store,
    /// <see cref="Cadence.RouteInterval"/>, 5 s). So the first input's collection reads every source
    /// again, and an input replayed on a fresh Mac (<c>--replay</c>) reaches every reader it edits;
    /// later inputs, one second apart, meet each cadence as a running Mac does.
    /// </summary>
    private static readonly TimeSpan SetupGap = new[] { Cadence.LimitsInterval, MacPowerReader.RegistryInterval, Cadence.RouteInterval }.Max();

    private readonly MacMachine _machine;
    private readonly MachineRig _rig;

    /// <summary>Loads the healthy Mac and builds the probes over it.</summary>
    public MacMachineTarget()
    {
        _machine = new MacMachine(Start);

        // In MacProbes.Register's order (the collector runs them in group order).
        _rig = new MachineRig(Start, builder =>
        {
            IServiceCollection services = builder.Services;
            services.AddSingleton<ISignalProbe>(sp => new ReaderProbe<MacPowerReader>("macos.power", SignalGroup.Power,
                new MacPowerReader(_machine.Power, _machine.ProcessInfo, MachineRig.Failures(sp), "macos.power"),
                static (reader, snapshot) => snapshot.Power = reader.Read(snapshot.TimeProvider)));
            services.AddSingleton<ISignalProbe>(sp => new ReaderProbe<MacThermalReader>("macos.thermal", SignalGroup.Thermal,
                new MacThermalReader(_machine.ProcessInfo, _machine.CpuStatus, MachineRig.Failures(sp), "macos.thermal"),
                static (reader, snapshot) => snapshot.Thermal = reader.Read(snapshot.TimeProvider)));
            services.AddSingleton<ISignalProbe>(sp => new MacGpuProbe(_machine.Accelerators, MachineRig.Failures(sp)));
            services.AddSingleton<ISignalProbe>(sp => new ReaderProbe<MacNetworkReader>(MacNetworkReader.ProbeName, SignalGroup.Network,
                new MacNetworkReader(_machine.Network, _machine.Paths, null, MachineRig.Failures(sp)),
                static (reader, snapshot) => reader.Collect(snapshot)));
            services.AddSingleton<ISignalProbe, MacContainerProbe>();
            services.AddSingleton<ISignalProbe>(sp => new MacComputeProbe(_machine.Compute, MachineRig.Failures(sp)));
        });

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
        Collect();
        return _rig.NoWorseThanBaseline;
    }

    /// <inheritdoc />
    public string Describe(bool result) => SnapshotChecks.DescribeMachine(result, LastUnknown, "Mac");

    /// <inheritdoc />
    public void Dispose() => _rig.Dispose();

    private void Collect() => CheckMac(_rig.Collect(Context), Context());

    private string Context() => $"The Mac's edited answers: {_machine.Describe()}";

    /// <summary>
    /// What the macOS probes document of their readings: the energy left is at most
    /// <see cref="MacPowerReader.MaxLevelOverFull"/> of full (the reader refuses more); a measured
    /// GPU count is the number of devices listed (Unknown when the search read fewer than it
    /// matched); used memory is total less available, and available at most total
    /// (<see cref="MacMemory"/>); the default interface is a BSD interface name
    /// (<see cref="PrimaryInterface.IsValidName"/>); temperatures and throttle events are
    /// NotSupported (no public API), and so is every container reading (macOS has no containers,
    /// <see cref="MacContainerProbe"/>).
    /// </summary>
    private static void CheckMac(NodeCostFactors snapshot, string context)
    {
        SnapshotChecks.CheckBatteryBelowFull(snapshot.Power, MacPowerReader.MaxLevelOverFull, context);

        GpuFactors gpu = snapshot.Gpu;
        if (gpu.DeviceCount.HasValue && gpu.DeviceCount.GetValueOrDefault(0) != gpu.Devices.Length)
        {
            throw new InvariantViolationException($"The GPU count is {gpu.DeviceCount} with {gpu.Devices.Length} devices listed. {context}");
        }

        ComputeFactors compute = snapshot.Compute;
        if (compute.MemoryTotalBytes.HasValue && compute.MemoryAvailableBytes.HasValue)
        {
            long total = compute.MemoryTotalBytes.GetValueOrDefault(0);
            long available = compute.MemoryAvailableBytes.GetValueOrDefault(0);
            if (available > total || !compute.MemoryUsedBytes.HasValue || compute.MemoryUsedBytes.GetValueOrDefault(0) != total - available)
            {
                throw new InvariantViolationException($"Memory: {compute.MemoryUsedBytes} used and {available} available of {total}. {context}");
            }
        }

        if (snapshot.Network.DefaultInterface is { } name && !PrimaryInterface.IsValidName(name))
        {
            throw new InvariantViolationException($"The default interface \"{name}\" is not a BSD interface name. {context}");
        }

        ThermalFactors thermal = snapshot.Thermal;
        ContainerFactors container = snapshot.Container;
        if (thermal.HottestCelsius.Quality != SignalQuality.NotSupported || thermal.ThrottleEvents.Quality != SignalQuality.NotSupported
            || container.Layout != CgroupLayout.None || container.CpuLimitCores.Quality != SignalQuality.NotSupported
            || container.MemoryLimitBytes.Quality != SignalQuality.NotSupported || container.MemoryWorkingSetBytes.Quality != SignalQuality.NotSupported
            || container.ThrottledPeriods.Quality != SignalQuality.NotSupported || container.ThrottledShare.Quality != SignalQuality.NotSupported)
        {
            throw new InvariantViolationException($"A reading macOS cannot give has a value or another quality: thermal {thermal}, container {container}. {context}");
        }
    }

    /// <summary>
    /// A macOS probe whose class only opens native sources, as its one-line <c>Collect</c> runs its
    /// reader: under the probe's name and group, over the fakes.
    /// </summary>
    /// <param name="name">The probe's name.</param>
    /// <param name="group">The probe's group.</param>
    /// <param name="reader">The reader.</param>
    /// <param name="collect">What the probe's <c>Collect</c> does with it.</param>
    /// <typeparam name="TReader">The reader's type.</typeparam>
    private sealed class ReaderProbe<TReader>(string name, SignalGroup group, TReader reader, Action<TReader, SnapshotBuilder> collect) : ISignalProbe
    {
        public string Name => name;

        public SignalGroup Group => group;

        public void Collect(SnapshotBuilder snapshot) => collect(reader, snapshot);
    }
}
