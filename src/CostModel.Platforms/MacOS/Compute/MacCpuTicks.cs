using System.Globalization;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Compute;

/// <summary>
/// CPU utilisation from two samples of the per-CPU tick counters of
/// <c>host_processor_info(PROCESSOR_CPU_LOAD_INFO)</c>: busy (user + system + nice) over all ticks
/// (busy + idle), summed over the CPUs. Each counter is a 32-bit <c>natural_t</c> that wraps, so
/// each CPU's delta is taken modulo 2^32; a delta of 2^31 or more cannot be a wrap (at 100 ticks a
/// second it would take 248 days between samples) and means the counter went backwards. A change in
/// the number of CPUs makes that sample Unknown, and the next one compares like with like.
/// </summary>
internal sealed class MacCpuTicks
{
    /// <summary>The reason of the first sample.</summary>
    internal const string FirstSample = "first sample; utilisation needs two";

    /// <summary>The reason when no tick elapsed on any CPU between two samples.</summary>
    internal const string NoTicks = "no CPU tick elapsed between samples";

    /// <summary>
    /// 2^31: the largest per-counter delta read as a wrap. XNU counts ticks at <c>hz</c> = 100 a
    /// second per CPU (bsd/conf/param.c), so a 32-bit counter wraps after 497 days and half of it is
    /// 248 days; samples are seconds apart, so a larger delta is a counter that went backwards.
    /// </summary>
    internal const uint MaxForwardDelta = 1u << 31;

    private CpuLoadTicks[] _previous = [];
    private int _previousCount;

    /// <summary>Clears the baseline: the next sample is a first sample.</summary>
    public void Reset() => _previousCount = 0;

    /// <summary>Takes a sample and returns the utilisation since the previous one.</summary>
    /// <param name="current">This sample's counters, one entry per CPU.</param>
    /// <param name="now">The observation time.</param>
    /// <param name="source">The reading's source (the call).</param>
    /// <param name="anomaly">Set when the counters went backwards (the caller reports it).</param>
    public Reading<double> Sample(ReadOnlySpan<CpuLoadTicks> current, DateTimeOffset now, string source, out string? anomaly)
    {
        anomaly = null;
        int previousCount = _previousCount;
        ReadOnlySpan<CpuLoadTicks> previous = _previous.AsSpan(0, previousCount);
        Reading<double> result = previousCount == 0
            ? Reading.Unknown<double>(FirstSample, now)
            : previousCount != current.Length
                ? Reading.Unknown<double>(string.Create(CultureInfo.InvariantCulture, $"the number of CPUs changed from {previousCount} to {current.Length}; utilisation needs two samples of the same CPUs"), now)
                : Delta(previous, current, now, source, out anomaly);

        if (_previous.Length < current.Length)
        {
            _previous = new CpuLoadTicks[current.Length];
        }

        current.CopyTo(_previous);
        _previousCount = current.Length;
        return result;
    }

    private static Reading<double> Delta(ReadOnlySpan<CpuLoadTicks> previous, ReadOnlySpan<CpuLoadTicks> current, DateTimeOffset now, string source, out string? anomaly)
    {
        anomaly = null;
        ulong busy = 0;
        ulong idle = 0;
        for (int cpu = 0; cpu < current.Length; cpu++)
        {
            CpuLoadTicks a = previous[cpu];
            CpuLoadTicks b = current[cpu];

            // Unsigned subtraction is the delta modulo 2^32: a counter that wrapped once reads right.
            uint user = unchecked(b.User - a.User);
            uint system = unchecked(b.System - a.System);
            uint nice = unchecked(b.Nice - a.Nice);
            uint idleTicks = unchecked(b.Idle - a.Idle);
            if (user >= MaxForwardDelta || system >= MaxForwardDelta || nice >= MaxForwardDelta || idleTicks >= MaxForwardDelta)
            {
                anomaly = string.Create(CultureInfo.InvariantCulture,
                    $"{source}: CPU {cpu}'s tick counters went backwards (user {a.User} -> {b.User}, system {a.System} -> {b.System}, idle {a.Idle} -> {b.Idle}, nice {a.Nice} -> {b.Nice}); the next sample starts afresh");
                return Reading.Unknown<double>(anomaly, now);
            }

            busy += (ulong)user + system + nice;
            idle += idleTicks;
        }

        ulong total = busy + idle;
        return total == 0
            ? Reading.Unknown<double>(NoTicks, now)
            : Reading.Estimated((double)busy / total, now, source);
    }
}
