using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Linux.Cgroups;

/// <summary>How a cgroup read went.</summary>
internal enum CgroupStatus : byte
{
    /// <summary>The value was read.</summary>
    Ok,

    /// <summary>This machine has no such thing (no cgroup fs, controller not mounted, file absent by design).</summary>
    NotSupported,

    /// <summary>The read failed (missing, access denied, I/O, garbage, out of range): report it.</summary>
    Failed,
}

/// <summary>
/// The result of one cgroup read, without allocation on success: the value and its source (a
/// string built at discovery), or the reason and failure kind.
/// </summary>
/// <typeparam name="T">The value type.</typeparam>
internal readonly struct CgroupResult<T>
    where T : struct
{
    private CgroupResult(CgroupStatus status, T value, string text, string? failureKind)
    {
        Status = status;
        Value = value;
        Text = text;
        FailureKind = failureKind;
    }

    public CgroupStatus Status { get; }

    public T Value { get; }

    /// <summary>The source (a path) when <see cref="Status"/> is Ok; otherwise the reason.</summary>
    public string Text { get; }

    /// <summary>"missing", "access-denied", "not-a-file", "io", "garbage", "out-of-range" when <see cref="Status"/> is Failed.</summary>
    public string? FailureKind { get; }

    public bool IsOk => Status == CgroupStatus.Ok;

    public static CgroupResult<T> Ok(T value, string source) => new(CgroupStatus.Ok, value, source, null);

    public static CgroupResult<T> NotSupported(string reason) => new(CgroupStatus.NotSupported, default, reason, null);

    public static CgroupResult<T> Failed(string kind, string reason) => new(CgroupStatus.Failed, default, reason, kind);

    /// <summary>The same outcome (not Ok) for another value type.</summary>
    public CgroupResult<TOther> As<TOther>()
        where TOther : struct => new(Status, default, Text, FailureKind);
}

/// <summary>Cumulative CFS bandwidth counters of one cgroup (<c>cpu.stat</c>).</summary>
/// <param name="Periods">nr_periods: enforcement periods that elapsed while the group had runnable tasks.</param>
/// <param name="Throttled">nr_throttled: periods in which the group used up its quota.</param>
/// <param name="HasQuota">False when no level of the hierarchy has a quota (the counters are then 0 by definition).</param>
internal readonly record struct ThrottleCounters(long Periods, long Throttled, bool HasQuota);

/// <summary>Turns cgroup results into readings, reporting failures.</summary>
internal static class CgroupResultExtensions
{
    /// <summary>
    /// Ok becomes Measured (source = the file), NotSupported stays NotSupported with its reason,
    /// Failed becomes Unknown with its reason and is reported to <paramref name="failures"/>.
    /// </summary>
    public static Reading<T> ToReading<T>(this CgroupResult<T> result, DateTimeOffset now, IProbeFailureReporter failures, string probe)
        where T : struct
    {
        switch (result.Status)
        {
            case CgroupStatus.Ok:
                return Reading.Measured(result.Value, now, result.Text);
            case CgroupStatus.NotSupported:
                return Reading.NotSupported<T>(result.Text, now);
            default:
                failures.Report(probe, result.FailureKind ?? "io", result.Text);
                return Reading.Unknown<T>(result.Text, now);
        }
    }

    /// <summary>Reports a failed result (does nothing for Ok and NotSupported).</summary>
    public static void ReportIfFailed<T>(this CgroupResult<T> result, IProbeFailureReporter failures, string probe)
        where T : struct
    {
        if (result.Status == CgroupStatus.Failed)
        {
            failures.Report(probe, result.FailureKind ?? "io", result.Text);
        }
    }
}
