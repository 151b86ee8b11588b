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

    // The longest cadence the Linux probes read on (cgroup limits and cpusets, /proc/meminfo and the
    // container's working set, the route tables): the first input's collection reads every file again.
    private static readonly TimeSpan SetupGap = new[] { Cadence.LimitsInterval, Cadence.MemoryInterval, Cadence.RouteInterval }.Max();

    private readonly LinuxMachineTree _tree;
    private readonly MachineRig _rig;

    /// <summary>Writes <paramref name="machine"/>'s healthy tree and builds the probes over it.</summary>
    /// <param name="machine">The machine.</param>
    public LinuxMachineTarget(LinuxMachine machine)
    {
        _tree = new LinuxMachineTree(machine);
        IConfiguration linux = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcRoot"] = _tree.Proc,
            ["SysRoot"] = _tree.Sys,
            ["UseNetworkManager"] = "false",
            ["AllowNvidiaSmiFallback"] = "false",
        }).Build();
        _rig = new MachineRig(Start, builder => builder.AddPlatformProbes(linux));

        // Two collections on the healthy tree (utilisation and rates need two samples): the baseline every input starts from.
        _rig.TakeBaseline(Collect, SetupGap);
    }

    /// <inheritdoc />
    public long Inputs { get; private set; }

    /// <summary>The readings without a value in the last snapshot, as group.reading: reason.</summary>
    public IReadOnlyList<string> LastUnknown => _rig.LastUnknown;

    /// <inheritdoc />
    public bool Run(ReadOnlySpan<byte> input)
    {
        _tree.Restore();
        _tree.Apply(input);
        Inputs++;
        Collect();
        return _rig.NoWorseThanBaseline;
    }

    /// <inheritdoc />
    public string Describe(bool result) => SnapshotChecks.DescribeMachine(result, LastUnknown, "machine");

    /// <inheritdoc />
    public void Dispose()
    {
        _rig.Dispose();
        _tree.Dispose();
    }

    private void Collect() => _rig.Collect(() => $"The tree's changed files: {_tree.Describe()}");
}
