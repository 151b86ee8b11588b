using System.Globalization;
using CostModel.Telemetry;

namespace CostModel.Platforms.Linux;

/// <summary>
/// Reading kernel files for one probe, and reporting what went wrong in one consistent way: a
/// failed read reports the file's own kind ("missing", "access-denied", "io"), an unparsable value
/// "garbage" with an excerpt, an implausible one "out-of-range". Each method returns the reason
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

    public string OutOfRange(string path, double value, string unit)
    {
        string reason = string.Create(CultureInfo.InvariantCulture, $"{path}: implausible value {value:G6}{(unit.Length == 0 ? "" : " " + unit)}");
        failures.Report(probe, "out-of-range", reason);
        return reason;
    }

    public string Report(string kind, string reason)
    {
        failures.Report(probe, kind, reason);
        return reason;
    }
}
