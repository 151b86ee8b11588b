using CostModel.Telemetry;

namespace CostModel.Platforms.Linux;

/// <summary>
/// Reading kernel files for one probe, and reporting what went wrong in one consistent way: a
/// failed read reports the file's own kind ("missing", "access-denied", "not-a-file", "io"), an
/// unparsable value "garbage" with an excerpt, one outside its <see cref="PlausibleRange"/>
/// "out-of-range" with the raw text (<see cref="Plausible.Reason"/>). Each method returns the reason
/// for the Unknown reading. A "missing" file calls <c>onMissing</c> (the probe rediscovers its
/// devices on the next pass). Failure paths allocate; successful reads do not.
/// </summary>
internal sealed class ProbeReads(IProbeFailureReporter failures, string probe, Action? onMissing = null)
{
    public bool TryReadInt64(KernelFile file, out long value, out string? error, string what = "not an integer")
    {
        if (!file.TryRead(out ReadOnlySpan<byte> content))
        {
            value = 0;
            error = ReportRead(file);
            return false;
        }

        if (!KernelText.TryParseInt64(content, out value))
        {
            error = ReportGarbage(file.Path, KernelText.Trim(content), what);
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Reads an integer and checks it against <paramref name="range"/> (in the file's own unit).</summary>
    public bool TryReadInt64(KernelFile file, PlausibleRange range, out long value, out string? error)
    {
        if (!TryReadInt64(file, out value, out error))
        {
            return false;
        }

        if (!range.Contains(value))
        {
            error = Implausible(file, range);
            return false;
        }

        return true;
    }

    /// <summary>Reports the value of the last read of <paramref name="file"/> as outside <paramref name="range"/>; returns the reason.</summary>
    public string Implausible(KernelFile file, PlausibleRange range) => Implausible(range, file.Path, file.Excerpt());

    /// <summary>Reports a value (raw text <paramref name="raw"/>, from <paramref name="source"/>) as outside <paramref name="range"/>; returns the reason.</summary>
    public string Implausible(PlausibleRange range, string source, string raw) =>
        Report(Plausible.OutOfRangeKind, Plausible.Reason(range, source, raw));

    public string ReportRead(KernelFile file)
    {
        string kind = file.ErrorKind ?? "io";
        string error = file.Error ?? $"{file.Path}: read failed";
        if (kind == "missing")
        {
            onMissing?.Invoke();
        }

        failures.Report(probe, kind, error);
        return error;
    }

    public string ReportGarbage(string path, ReadOnlySpan<byte> text, string what)
    {
        string reason = KernelText.GarbageReason(path, text, what);
        failures.Report(probe, "garbage", reason);
        return reason;
    }

    public string Report(string kind, string reason)
    {
        failures.Report(probe, kind, reason);
        return reason;
    }
}
