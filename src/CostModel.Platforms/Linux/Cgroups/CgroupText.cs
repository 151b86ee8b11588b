namespace CostModel.Platforms.Linux.Cgroups;

/// <summary>
/// Allocation-free parsers for the text formats of cgroupfs and related procfs files: CPU lists
/// (<c>0-3,8,10-11</c>), <c>cpu.max</c>, limits with an "unlimited" spelling, PSI lines.
/// </summary>
internal static class CgroupText
{
    /// <summary>
    /// The largest CPU number accepted in a CPU list; bounds a garbage file and the bit set.
    /// Linux's NR_CPUS is at most 8192 on common builds; the factor model accepts up to 65 536 cores.
    /// </summary>
    internal const int MaxCpuId = 65_535;

    /// <summary>
    /// Memory limits at or above this many bytes (4 EiB) mean "no limit". cgroup v1 writes
    /// PAGE_COUNTER_MAX, which is LONG_MAX rounded down to the page size
    /// (9223372036854771712 with 4 KiB pages, 9223372036854710272 with 64 KiB pages); no machine
    /// has 4 EiB of memory, so one threshold covers every page size.
    /// </summary>
    internal const long UnlimitedMemoryThreshold = 1L << 62;

    /// <summary>
    /// Counts the CPUs in a kernel CPU list ("0-3,8,10-11", possibly empty or newline-terminated)
    /// and, when <paramref name="bits"/> is not empty, sets their bits (bit i of word i/64).
    /// </summary>
    /// <returns>False for malformed text, a reversed range, or a CPU above <see cref="MaxCpuId"/> or outside <paramref name="bits"/>.</returns>
    public static bool TryParseCpuList(ReadOnlySpan<byte> text, Span<ulong> bits, out int count)
    {
        count = 0;
        bits.Clear();
        text = KernelText.Trim(text);
        while (!text.IsEmpty)
        {
            int comma = text.IndexOf((byte)',');
            ReadOnlySpan<byte> item = comma < 0 ? text : text[..comma];
            text = comma < 0 ? default : text[(comma + 1)..];

            int dash = item.IndexOf((byte)'-');
            long first;
            long last;
            if (dash < 0)
            {
                if (!KernelText.TryParseInt64(item, out first))
                {
                    return false;
                }

                last = first;
            }
            else if (!KernelText.TryParseInt64(item[..dash], out first) || !KernelText.TryParseInt64(item[(dash + 1)..], out last))
            {
                return false;
            }

            if (first < 0 || last < first || last > MaxCpuId)
            {
                return false;
            }

            if (!bits.IsEmpty)
            {
                if (last >= (long)bits.Length * 64)
                {
                    return false;
                }

                for (long cpu = first; cpu <= last; cpu++)
                {
                    bits[(int)(cpu >> 6)] |= 1UL << (int)(cpu & 63);
                }
            }

            count += (int)(last - first + 1);
            if (count > MaxCpuId + 1)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether CPU <paramref name="cpu"/> is set in a bit set filled by <see cref="TryParseCpuList"/>.</summary>
    public static bool IsSet(ReadOnlySpan<ulong> bits, int cpu) =>
        cpu >= 0 && (cpu >> 6) < bits.Length && (bits[cpu >> 6] & (1UL << (cpu & 63))) != 0;

    /// <summary>
    /// Parses cgroup v2 <c>cpu.max</c>: "$MAX $PERIOD" where $MAX is "max" (no quota) or
    /// microseconds of CPU per period. A lone "$MAX" (no period) is rejected as truncated.
    /// </summary>
    /// <param name="text">The file content.</param>
    /// <param name="unlimited">True for "max".</param>
    /// <param name="quotaMicros">The quota in microseconds per period (when limited).</param>
    /// <param name="periodMicros">The period in microseconds.</param>
    public static bool TryParseCpuMax(ReadOnlySpan<byte> text, out bool unlimited, out long quotaMicros, out long periodMicros)
    {
        unlimited = false;
        quotaMicros = 0;
        periodMicros = 0;
        ReadOnlySpan<byte> rest = KernelText.Trim(text);
        if (!KernelText.NextField(ref rest, out ReadOnlySpan<byte> quota)
            || !KernelText.NextField(ref rest, out ReadOnlySpan<byte> period)
            || !KernelText.Trim(rest).IsEmpty
            || !KernelText.TryParseInt64(period, out periodMicros)
            || periodMicros <= 0)
        {
            return false;
        }

        if (quota.SequenceEqual("max"u8))
        {
            unlimited = true;
            return true;
        }

        return KernelText.TryParseInt64(quota, out quotaMicros) && quotaMicros > 0;
    }

    /// <summary>
    /// Parses a memory limit in bytes: "max" (cgroup v2) or a number, where numbers at or above
    /// <see cref="UnlimitedMemoryThreshold"/> (the v1 sentinel) also mean unlimited.
    /// </summary>
    public static bool TryParseMemoryLimit(ReadOnlySpan<byte> text, out bool unlimited, out long bytes)
    {
        unlimited = false;
        bytes = 0;
        text = KernelText.Trim(text);
        if (text.SequenceEqual("max"u8))
        {
            unlimited = true;
            return true;
        }

        if (KernelText.TryParseInt64(text, out bytes))
        {
            if (bytes >= UnlimitedMemoryThreshold)
            {
                unlimited = true;
                return true;
            }

            return bytes >= 0;
        }

        // A value that overflows a signed 64-bit number is still "no limit" (ulong sentinels on some kernels).
        if (KernelText.TryParseUInt64(text, out ulong big) && big >= UnlimitedMemoryThreshold)
        {
            unlimited = true;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Reads the <c>some avg10=</c> value of a PSI file (<c>/proc/pressure/cpu</c>,
    /// <c>cpu.pressure</c>): a percentage of the last 10 s, returned as a fraction 0 to 1.
    /// </summary>
    public static bool TryParsePressureSomeAvg10(ReadOnlySpan<byte> content, out double fraction)
    {
        fraction = 0;
        ReadOnlySpan<byte> rest = content;
        while (KernelText.NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            ReadOnlySpan<byte> fields = line;
            if (!KernelText.NextField(ref fields, out ReadOnlySpan<byte> kind) || !kind.SequenceEqual("some"u8))
            {
                continue;
            }

            while (KernelText.NextField(ref fields, out ReadOnlySpan<byte> field))
            {
                if (field.StartsWith("avg10="u8))
                {
                    if (!KernelText.TryParseDouble(field["avg10=".Length..], out double percent) || percent < 0 || percent > 100)
                    {
                        return false;
                    }

                    fraction = percent / 100.0;
                    return true;
                }
            }

            return false;
        }

        return false;
    }
}
