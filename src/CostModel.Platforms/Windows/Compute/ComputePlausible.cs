using CostModel.Factors;

namespace CostModel.Platforms.Windows.Compute;

/// <summary>
/// The values the Windows compute probe accepts from the OS (the record and reason builder are the
/// Linux provider's <see cref="Plausible"/>); outside them the reading is Unknown with the raw
/// value and the failure is reported as <see cref="Plausible.OutOfRangeKind"/>.
/// </summary>
internal static class ComputePlausible
{
    /// <summary>
    /// Logical processors of all groups: 1 to 65 536, the model's bound
    /// (<see cref="ComputeFactors.MaxCores"/>; Windows Server 2025 supports 2 048). A running
    /// process runs on at least one.
    /// </summary>
    internal static readonly PlausibleRange ProcessorCount = new(
        "logical processor count", 1, ComputeFactors.MaxCores, "",
        "a running process has at least one processor, and the model's bound is 65536 (Windows Server 2025 supports 2048)");

    /// <summary>
    /// Physical memory (<c>ullTotalPhys</c>): 1 MiB to 4 PiB. 4 PiB is the most any Windows edition
    /// addresses (Windows Server 2025 Datacenter with 5-level paging: 4 PB); no Windows boots in
    /// less than 1 MiB.
    /// </summary>
    internal static readonly PlausibleRange PhysicalMemoryBytes = new(
        "physical memory", 1L << 20, 1L << 52, "bytes",
        "at most 4 PiB, the most any Windows edition addresses (Server 2025 Datacenter with 5-level paging); no Windows runs in under 1 MiB");

    /// <summary>Why available physical memory above the total is implausible.</summary>
    internal const string AvailableAboveTotalWhy = "available memory is part of physical memory";

    /// <summary>Why idle time above kernel time is implausible.</summary>
    internal const string IdleAboveKernelWhy = "GetSystemTimes counts idle time inside kernel time, so idle cannot grow faster than kernel";
}
