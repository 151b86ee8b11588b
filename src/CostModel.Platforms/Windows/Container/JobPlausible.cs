
namespace CostModel.Platforms.Windows.Container;

/// <summary>
/// The values a job object can hold on a working machine (the record and the reason builder are
/// the Linux provider's <see cref="Plausible"/>); outside them the reading is Unknown with the raw
/// value in the reason and the failure is reported as <see cref="Plausible.OutOfRangeKind"/>.
/// </summary>
internal static class JobPlausible
{
    /// <summary>
    /// A hard-cap <c>CpuRate</c> or a <c>MaxRate</c>: 1 to 10 000, the share of all processors'
    /// cycles in hundredths of a percent (JOBOBJECT_CPU_RATE_CONTROL_INFORMATION: "a percentage
    /// times 100"; 10 000 is every cycle). 0 would stop the job entirely, which
    /// SetInformationJobObject refuses.
    /// </summary>
    internal static readonly PlausibleRange CpuRate = new(
        "job CPU rate", 1, 10_000, "hundredths of a percent",
        "a share of all processors' cycles, a percentage times 100 (JOBOBJECT_CPU_RATE_CONTROL_INFORMATION); 10000 is all of them");

    /// <summary>
    /// A job or process memory limit that is in force (its JOB_OBJECT_LIMIT_* flag set): at least 1
    /// byte. A limit of 0 with the flag set would fail every allocation and cannot describe a
    /// running process. Limits at or above 2^63 bytes are kept as "unlimited" instead (they exceed
    /// any 64-bit commit and bind nothing); see <see cref="UnboundedMemoryLimitBytes"/>.
    /// </summary>
    internal static readonly PlausibleRange MemoryLimitBytes = new(
        "job memory limit", 1, long.MaxValue, "bytes",
        "a limit in force is at least 1 byte: 0 would fail every allocation of a running process");

    /// <summary>A memory limit at or above this (2^63 bytes) cannot bind: no 64-bit process or job can commit that much.</summary>
    internal const ulong UnboundedMemoryLimitBytes = 1UL << 63;
}
