using CostModel.Collection;
using CostModel.Factors;

namespace CostModel.Platforms.MacOS.Container;

/// <summary>
/// Fills <see cref="ContainerFactors"/> on macOS, where a process runs in no container: macOS has
/// no cgroups and no job objects, and nothing an operator or orchestrator sets caps a process's
/// share of the CPUs or its memory (rlimits bound sizes and CPU seconds, QoS classes and App Nap
/// lower priority; none is a quota). Docker Desktop and other container runtimes on a Mac run
/// Linux in a virtual machine, where the Linux probes read the cgroups. So the layout is
/// <see cref="CgroupLayout.None"/> and every reading is NotSupported with the reason, as on a
/// Linux machine without a cgroup file system; a limit is not reported Unlimited, which would
/// claim a measurement of a mechanism that does not exist. <c>macos.compute</c> does not bound its
/// cores or memory by these readings. Reads nothing. See docs/macos/containers.md.
/// </summary>
internal sealed class MacContainerProbe : ISignalProbe
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "macos.container";

    /// <summary>The reason of the limits and the working set.</summary>
    internal const string NoContainer = "macOS has no containers for a process (no cgroups, no job objects): no CPU quota or memory limit exists to read";

    /// <summary>The reason of throttling.</summary>
    internal const string NoThrottling = "macOS has no CPU quota for a process (no cgroups), so nothing throttles it against one";

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Container;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        DateTimeOffset now = snapshot.TimeProvider.GetUtcNow();
        snapshot.Container = new ContainerFactors
        {
            Layout = CgroupLayout.None,
            CpuLimitCores = Reading.NotSupported<ResourceLimit>(NoContainer, now),
            MemoryLimitBytes = Reading.NotSupported<ResourceLimit>(NoContainer, now),
            MemoryWorkingSetBytes = Reading.NotSupported<long>(NoContainer, now),
            ThrottledPeriods = Reading.NotSupported<long>(NoThrottling, now),
            ThrottledShare = Reading.NotSupported<double>(NoThrottling, now),
        };
    }
}
