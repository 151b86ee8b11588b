using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Fuzz;

/// <summary>
/// A Linux machine whose kernel files the fuzzer writes: a healthy machine's <c>/proc</c> and
/// <c>/sys</c> (<see cref="LinuxMachine"/>, <see cref="LinuxMachineTree"/>) below a folder of its
/// own, the platform probes built over it through DI as a host builds them
/// (<c>AddCostModel().AddPlatformProbes()</c>, ProcRoot and SysRoot pointed at it, NetworkManager
/// and nvidia-smi off), and one collection per input, one second after the last. Each input
/// rewrites or deletes some of the files (<see cref="LinuxMachineTree.Apply"/>); before the next,
/// the files it touched are written back to their healthy contents. The probes keep
/// what they learnt between inputs (counters for rates, discovered batteries and zones), as on a
/// machine whose files go bad while the process runs.
/// </summary>
/// <remarks>
/// Invariants (each broken one throws <see cref="InvariantViolationException"/>): no probe reaches
/// the collector's last-resort catch (a probe must turn any file into a reading or an Unknown with
/// its reason, never an exception); the snapshot round-trips through JSON to an equal one, and every
/// reading without a value names its reason there; and the node's own state, quantised for gossip
/// and written as a state record, is read back by the receive path's checks without a rejection
/// and builds as factors (a node must not publish what its peers refuse).
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class LinuxMachineTarget : IFuzzTarget
{
    /// <summary>The machine's clock at its start.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    // One collection a second: the collector's default sample interval (CollectionDefaults.SampleInterval).
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly LinuxMachineTree _tree;
    private readonly ServiceProvider _provider;
    private readonly ICostCollector _collector;
    private readonly ProbeExceptions _probeExceptions;

    // Readings without a value on the healthy tree (set by the first collection).
    private int _baselineUnknown = -1;

    /// <summary>Writes <paramref name="machine"/>'s healthy tree and builds the probes over it.</summary>
    /// <param name="machine">The machine.</param>
    public LinuxMachineTarget(LinuxMachine machine)
    {
        _tree = new LinuxMachineTree(machine);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddMetrics();
        IConfiguration linux = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcRoot"] = _tree.Proc,
            ["SysRoot"] = _tree.Sys,
            ["UseNetworkManager"] = "false",
            ["AllowNvidiaSmiFallback"] = "false",
        }).Build();
        services.AddCostModel(o => o.NodeId = SnapshotChecks.NodeId).AddPlatformProbes(linux);
        _provider = services.BuildServiceProvider();
        _collector = _provider.GetRequiredService<ICostCollector>();

        _probeExceptions = new ProbeExceptions(_provider.GetRequiredService<Telemetry.CostModelMetrics>());

        // The first collection on the healthy tree: the baseline every input starts from.
        Collect();
    }

    /// <inheritdoc />
    public long Inputs { get; private set; }

    /// <summary>The readings without a value in the last snapshot, as group.reading: reason.</summary>
    public IReadOnlyList<string> LastUnknown { get; private set; } = [];

    /// <inheritdoc />
    public bool Run(ReadOnlySpan<byte> input)
    {
        _tree.Restore();
        _tree.Apply(input);
        Inputs++;
        Collect();
        return LastUnknown.Count <= _baselineUnknown;
    }

    /// <inheritdoc />
    public string Describe(bool result) =>
        $"{(result ? "read as the healthy machine reads" : "some readings Unknown")}; {LastUnknown.Count} reading(s) without a value" +
        (LastUnknown.Count == 0 ? "" : ": " + string.Join("; ", LastUnknown.Take(8)) + (LastUnknown.Count > 8 ? "; ..." : ""));

    /// <inheritdoc />
    public void Dispose()
    {
        _probeExceptions.Dispose();
        _provider.Dispose();
        _tree.Dispose();
    }

    private void Collect()
    {
        _time.Advance(Interval);
        _probeExceptions.Clear();
        NodeCostFactors snapshot;
        try
        {
            snapshot = _collector.Collect();
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException("ICostCollector.Collect threw.", ex);
        }

        if (_probeExceptions.Seen.Count > 0)
        {
            throw new InvariantViolationException($"A probe reached the collector's last-resort catch: {string.Join("; ", _probeExceptions.Seen)}. The tree's changed files: {_tree.Describe()}");
        }

        string context = $"The tree's changed files: {_tree.Describe()}";
        LastUnknown = SnapshotChecks.CheckJson(snapshot, context);
        if (!SnapshotChecks.CheckWire(snapshot, _time.GetUtcNow(), context))
        {
            throw new InvariantViolationException($"The collector took a generation gossip cannot publish: {snapshot.Generation}.");
        }

        if (_baselineUnknown < 0)
        {
            _baselineUnknown = LastUnknown.Count;
        }
    }
}
