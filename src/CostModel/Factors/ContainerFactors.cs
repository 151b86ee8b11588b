namespace CostModel.Factors;

/// <summary>Limits of the container or control group the node's process runs in.</summary>
public sealed record ContainerFactors
{
    /// <summary>Which cgroup layout was found (None outside Linux).</summary>
    public CgroupLayout Layout { get; init; }

    /// <summary>The CPU quota in cores (quota / period, smallest up the hierarchy), or unlimited.</summary>
    public Reading<ResourceLimit> CpuLimitCores { get; init; }

    /// <summary>The memory limit in bytes (smallest up the hierarchy), or unlimited.</summary>
    public Reading<ResourceLimit> MemoryLimitBytes { get; init; }

    /// <summary>Memory the group uses that it cannot give back easily (usage minus inactive file cache), in bytes.</summary>
    public Reading<long> MemoryWorkingSetBytes { get; init => field = FactorGuard.NonNegative(value, nameof(MemoryWorkingSetBytes)); }

    /// <summary>Scheduler periods in which the group hit its quota, since the previous snapshot.</summary>
    public Reading<long> ThrottledPeriods { get; init => field = FactorGuard.NonNegative(value, nameof(ThrottledPeriods)); }

    /// <summary>Share of scheduler periods in which the group was throttled since the previous snapshot, 0 to 1.</summary>
    public Reading<double> ThrottledShare { get; init => field = FactorGuard.Range(value, 0, 1, nameof(ThrottledShare)); }
}
