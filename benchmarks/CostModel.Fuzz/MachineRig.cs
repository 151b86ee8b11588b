using CostModel.Collection;
using CostModel.DependencyInjection;
using CostModel.Factors;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Fuzz;

/// <summary>
/// What the machine targets (<see cref="LinuxMachineTarget"/>, <see cref="MacMachineTarget"/>,
/// <see cref="WinMachineTarget"/>) share: a <see cref="FakeTimeProvider"/>, the library built through
/// DI as a host builds it (<c>AddMetrics()</c>, <c>AddCostModel()</c>, then the target's probes), the
/// listener of the collector's last-resort catch, and one checked collection a second
/// (<see cref="SnapshotChecks.Collect"/>). Each target keeps its machine, what an input does to it
/// and its own invariants.
/// </summary>
internal sealed class MachineRig : IDisposable
{
    /// <summary>One collection a second: the collector's default sample interval (<see cref="CollectionDefaults.SampleInterval"/>).</summary>
    public static readonly TimeSpan Interval = CollectionDefaults.SampleInterval;

    private readonly ServiceProvider _provider;
    private readonly ICostCollector _collector;
    private readonly ProbeExceptions _probeExceptions;

    /// <summary>Builds the library over the target's probes.</summary>
    /// <param name="start">The machine's clock at its start.</param>
    /// <param name="addProbes">Registers the target's probes on the builder <c>AddCostModel()</c> returned.</param>
    public MachineRig(DateTimeOffset start, Action<ICostModelBuilder> addProbes)
    {
        Time = new FakeTimeProvider(start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddMetrics();
        addProbes(services.AddCostModel(o => o.NodeId = SnapshotChecks.NodeId));
        _provider = services.BuildServiceProvider();
        _collector = _provider.GetRequiredService<ICostCollector>();
        _probeExceptions = new ProbeExceptions(_provider.GetRequiredService<CostModelMetrics>());
    }

    /// <summary>The machine's clock.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The services built (for a target that drives one of its probes itself).</summary>
    public IServiceProvider Services => _provider;

    /// <summary>The readings without a value in the last snapshot, as group.reading: reason.</summary>
    public IReadOnlyList<string> LastUnknown { get; private set; } = [];

    /// <summary>How many readings had no value on the healthy machine (<see cref="TakeBaseline"/>); -1 before.</summary>
    public int BaselineUnknown { get; private set; } = -1;

    /// <summary>True when the last snapshot has no more readings without a value than the healthy machine: what a machine target's input reports.</summary>
    public bool NoWorseThanBaseline => LastUnknown.Count <= BaselineUnknown;

    /// <summary>
    /// Collects twice on the healthy machine (rates and utilisation need two samples), keeps what had
    /// no value as the baseline every input starts from, then moves the clock by <paramref name="setupGap"/>
    /// (the longest cadence the target's probes read on, so the first input's collection reads every
    /// source again and an input replayed on a fresh machine reaches every reader it edits).
    /// </summary>
    /// <param name="collectHealthy">Sets the machine's healthy answers and collects once, checked.</param>
    /// <param name="setupGap">The clock's move after the baseline.</param>
    public void TakeBaseline(Action collectHealthy, TimeSpan setupGap)
    {
        collectHealthy();
        collectHealthy();
        BaselineUnknown = LastUnknown.Count;
        Time.Advance(setupGap);
    }

    /// <summary>Moves the clock one <see cref="Interval"/> (no timer callback may throw) and collects once, checked by <see cref="SnapshotChecks.Collect"/>.</summary>
    /// <param name="context">What the input changed, for the messages.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="InvariantViolationException">An invariant was broken.</exception>
    public NodeCostFactors Collect(Func<string> context)
    {
        try
        {
            Time.Advance(Interval);
        }
        catch (Exception ex)
        {
            // A probe's timer (the Windows GPU probe samples PDH on one) runs on a thread-pool thread on a live machine, where an exception ends the process.
            throw new InvariantViolationException($"A timer callback threw. {context()}", ex);
        }

        LastUnknown = SnapshotChecks.Collect(_collector, _probeExceptions, Time.GetUtcNow, context, out NodeCostFactors snapshot);
        return snapshot;
    }

    /// <summary>The failure reporter probes are built with.</summary>
    /// <param name="services">The services.</param>
    /// <returns>The reporter.</returns>
    public static IProbeFailureReporter Failures(IServiceProvider services) => services.GetRequiredService<IProbeFailureReporter>();

    /// <inheritdoc />
    public void Dispose()
    {
        _probeExceptions.Dispose();
        _provider.Dispose();
    }
}
