namespace CostModel.Factors;

/// <summary>CPU and memory load of the node, relative to the resources this process can actually use.</summary>
public sealed record ComputeFactors
{
    /// <summary>CPU busy share, 0 to 1, of the cores actually available (a container's quota, not the host's cores).</summary>
    public Reading<double> CpuUtilization { get; init => field = FactorGuard.Range(value, 0, 1, nameof(CpuUtilization)); }

    /// <summary>Cores this process can use: the smallest of host cores, CPU quota and cpuset.</summary>
    public Reading<double> EffectiveCores { get; init => field = FactorGuard.Range(value, 0, MaxCores, nameof(EffectiveCores)); }

    /// <summary>One-minute load average divided by <see cref="EffectiveCores"/> (1 means every core busy, more means queueing).</summary>
    public Reading<double> LoadPerCore { get; init => field = FactorGuard.NonNegative(value, nameof(LoadPerCore)); }

    /// <summary>Share of time, 0 to 1, in which some runnable task waited for a CPU (PSI <c>some avg10</c>).</summary>
    public Reading<double> CpuPressure { get; init => field = FactorGuard.Range(value, 0, 1, nameof(CpuPressure)); }

    /// <summary>Share of time, 0 to 1, in which some task stalled on memory (PSI <c>some avg10</c>).</summary>
    public Reading<double> MemoryPressure { get; init => field = FactorGuard.Range(value, 0, 1, nameof(MemoryPressure)); }

    /// <summary>Memory in use, in bytes.</summary>
    public Reading<long> MemoryUsedBytes { get; init => field = FactorGuard.NonNegative(value, nameof(MemoryUsedBytes)); }

    /// <summary>Memory available to new work without swapping, in bytes.</summary>
    public Reading<long> MemoryAvailableBytes { get; init => field = FactorGuard.NonNegative(value, nameof(MemoryAvailableBytes)); }

    /// <summary>Memory this process can use in total (host memory or the container's limit), in bytes.</summary>
    public Reading<long> MemoryTotalBytes { get; init => field = FactorGuard.NonNegative(value, nameof(MemoryTotalBytes)); }

    /// <summary>65,536 cores: the most the model accepts (the largest single systems have a few thousand hardware threads); beyond is a driver or parsing error.</summary>
    public const double MaxCores = 65_536;
}
