using System.Collections.Immutable;
using System.Globalization;
using CostModel.Factors;

namespace CostModel.Platforms.Gpu;

/// <summary>One <c>nvidia-smi --query-gpu</c> field list and whether it ends with <c>mig.mode.current</c>.</summary>
/// <param name="Fields">The comma-separated field names.</param>
/// <param name="WithMigMode">True when the last column is <c>mig.mode.current</c>.</param>
internal sealed record NvidiaSmiQuery(string Fields, bool WithMigMode)
{
    /// <summary>The columns every variant starts with, in this order.</summary>
    public const string CommonFields = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw";

    /// <summary>
    /// The queries tried in order, each only after the previous one was rejected with
    /// "is not a valid field to query": R535 renamed <c>clocks_throttle_reasons.*</c> to
    /// <c>clocks_event_reasons.*</c> (the old names stay as aliases), and <c>mig.mode.current</c>
    /// exists since R450.
    /// </summary>
    public static ImmutableArray<NvidiaSmiQuery> Variants { get; } =
    [
        new(CommonFields + ",clocks_event_reasons.active,mig.mode.current", WithMigMode: true),
        new(CommonFields + ",clocks_throttle_reasons.active,mig.mode.current", WithMigMode: true),
        new(CommonFields + ",clocks_throttle_reasons.active", WithMigMode: false),
    ];

    /// <summary>The command-line arguments: values without units, no header.</summary>
    public ImmutableArray<string> Arguments { get; } = ["--query-gpu=" + Fields, "--format=csv,noheader,nounits"];
}

/// <summary>What one <c>nvidia-smi</c> answer held.</summary>
/// <param name="Devices">One record per well-formed line.</param>
/// <param name="Problems">Lines or fields that could not be parsed, for the failure reporter.</param>
internal sealed record NvidiaSmiParseResult(ImmutableArray<GpuDevice> Devices, ImmutableArray<string> Problems);

/// <summary>
/// Parses <c>nvidia-smi --query-gpu=... --format=csv,noheader,nounits</c> output: one line per GPU,
/// fields separated by ", ", memory in MiB, temperature in degrees C, power in W, utilisation in
/// percent, the event reasons as a hex bit mask. A field the GPU does not report reads
/// <c>[N/A]</c> (or <c>[Not Supported]</c> from older drivers) and becomes a NotSupported reading;
/// other bracketed texts (<c>[Unknown Error]</c>, <c>[GPU requires reset]</c>) become Unknown.
/// </summary>
internal static class NvidiaSmiCsv
{
    /// <summary>The provenance of every reading parsed here.</summary>
    public const string Source = "nvidia-smi";

    /// <summary>The reason when utilisation is [N/A] on a GPU in MIG mode.</summary>
    internal const string MigReason = "MIG mode: nvidia-smi reports no whole-GPU utilisation while MIG is enabled (utilization.gpu is [N/A])";

    // nvidia-smi's "nounits" memory columns are MiB.
    private const long BytesPerMiB = 1024 * 1024;

    // A problem quotes at most this much of a line: enough to recognise it, bounded for the log.
    private const int MaxProblemLineLength = 200;

    /// <summary>Parses a whole answer. Pure: the same text and time always give the same result.</summary>
    /// <param name="output">Standard output of nvidia-smi.</param>
    /// <param name="withMigMode">Whether the query ended with <c>mig.mode.current</c>.</param>
    /// <param name="observedAt">When nvidia-smi answered; every reading is stamped with it.</param>
    public static NvidiaSmiParseResult Parse(string output, bool withMigMode, DateTimeOffset observedAt)
    {
        ArgumentNullException.ThrowIfNull(output);
        ImmutableArray<GpuDevice>.Builder devices = ImmutableArray.CreateBuilder<GpuDevice>();
        ImmutableArray<string>.Builder problems = ImmutableArray.CreateBuilder<string>();
        int trailing = withMigMode ? 7 : 6; // columns after the name

        foreach (string rawLine in output.Split('\n'))
        {
            string line = rawLine.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string[] parts = line.Split(',');
            if (parts.Length < 2 + trailing
                || !int.TryParse(parts[0].AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                // "Unable to determine the device handle for GPU 0000:3B:00.0: GPU is lost", or garbage.
                problems.Add("unexpected nvidia-smi line: " + Shorten(line));
                continue;
            }

            // A name with a comma in it is put back together: the other columns are counted from the end.
            int nameEnd = parts.Length - trailing;
            string name = GpuNames.Sanitize(string.Join(',', parts, 1, nameEnd - 1), $"NVIDIA GPU {index}");
            var row = new Row(parts, nameEnd, index, observedAt, problems);
            bool mig = withMigMode && string.Equals(row.Text(6), "Enabled", StringComparison.OrdinalIgnoreCase);

            Reading<long> used = row.MiB(1, "memory.used");
            Reading<long> total = row.MiB(2, "memory.total");
            if (used.HasValue && total.HasValue && used.GetValueOrDefault(default) > total.GetValueOrDefault(default))
            {
                // Either may be wrong: both are Unknown.
                string reason = Plausible.Exceeds("VRAM used", $"nvidia-smi memory.used for GPU {index}", row.Text(1) + " MiB",
                    "VRAM total", $"nvidia-smi memory.total for GPU {index}", row.Text(2) + " MiB", Plausible.GpuMemoryUsedWhy);
                problems.Add(reason);
                used = total = Reading.Unknown<long>(reason, observedAt);
            }

            devices.Add(new GpuDevice
            {
                Index = index,
                Vendor = GpuVendor.Nvidia,
                Name = name,
                Utilization = row.Percent(0, "utilization.gpu", mig),
                MemoryUsedBytes = used,
                MemoryTotalBytes = total,
                TemperatureCelsius = row.Number(3, "temperature.gpu", Plausible.SensorCelsius),
                PowerWatts = row.Number(4, "power.draw", Plausible.GpuPowerWatts),
                Throttled = row.Reasons(5, "clocks_event_reasons.active"),
            });
        }

        return new NvidiaSmiParseResult(devices.DrainToImmutable(), problems.DrainToImmutable());
    }

    private static string Shorten(string line) => line.Length <= MaxProblemLineLength ? line : line[..MaxProblemLineLength] + "...";

    /// <summary>The value columns of one line, numbered from 0 after the name.</summary>
    private readonly struct Row(string[] parts, int firstValue, int gpu, DateTimeOffset observedAt, ImmutableArray<string>.Builder problems)
    {
        public string Text(int column) => parts[firstValue + column].Trim();

        public Reading<double> Percent(int column, string field, bool mig)
        {
            string text = Text(column);
            if (mig && IsNotAvailable(text))
            {
                return Reading.NotSupported<double>(MigReason, observedAt);
            }

            Reading<double> percent = Number(column, field, Plausible.GpuBusyPercent);
            return percent.HasValue ? Reading.Measured(percent.Value / 100.0, observedAt, Source) : percent;
        }

        public Reading<double> Number(int column, string field, PlausibleRange range)
        {
            string text = Text(column);
            if (TryNotAValue(text, field, out Reading<double> missing))
            {
                return missing;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            {
                return Garbage<double>(field, text);
            }

            if (!range.Contains(value))
            {
                string reason = Plausible.Reason(range, $"nvidia-smi {field} for GPU {gpu}", Shorten(text));
                problems.Add(reason);
                return Reading.Unknown<double>(reason, observedAt);
            }

            return Reading.Measured(value, observedAt, Source);
        }

        public Reading<long> MiB(int column, string field)
        {
            string text = Text(column);
            if (TryNotAValue(text, field, out Reading<long> missing))
            {
                return missing;
            }

            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long mib))
            {
                return Garbage<long>(field, text);
            }

            if (mib > long.MaxValue / BytesPerMiB || !Plausible.GpuMemoryBytes.Contains(mib * BytesPerMiB))
            {
                string reason = Plausible.Reason(Plausible.GpuMemoryBytes, $"nvidia-smi {field} for GPU {gpu} (MiB)", Shorten(text));
                problems.Add(reason);
                return Reading.Unknown<long>(reason, observedAt);
            }

            return Reading.Measured(mib * BytesPerMiB, observedAt, Source);
        }

        public Reading<bool> Reasons(int column, string field)
        {
            string text = Text(column);
            if (TryNotAValue(text, field, out Reading<bool> missing))
            {
                return missing;
            }

            ReadOnlySpan<char> hex = text.AsSpan();
            if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                hex = hex[2..];
            }

            return ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong reasons)
                ? Reading.Measured((reasons & NvmlConstants.HeatOrPowerReasons) != 0, observedAt, Source)
                : Garbage<bool>(field, text);
        }

        private bool TryNotAValue<T>(string text, string field, out Reading<T> reading)
            where T : struct
        {
            if (IsNotAvailable(text))
            {
                reading = Reading.NotSupported<T>($"nvidia-smi reports {field} as {text}: this GPU or driver does not report it", observedAt);
                return true;
            }

            if (text.StartsWith('['))
            {
                // [Unknown Error], [GPU requires reset], [Insufficient Permissions]...
                reading = Reading.Unknown<T>($"nvidia-smi reports {field} for GPU {gpu} as {text}", observedAt);
                problems.Add($"GPU {gpu} {field}: {text}");
                return true;
            }

            reading = default;
            return false;
        }

        private Reading<T> Garbage<T>(string field, string text, string what = "not a number")
            where T : struct
        {
            string reason = $"nvidia-smi {field} for GPU {gpu} is {what}: '{Shorten(text)}'";
            problems.Add(reason);
            return Reading.Unknown<T>(reason, observedAt);
        }

        private static bool IsNotAvailable(string text) =>
            text is "[N/A]" or "N/A" or "[Not Supported]" or "Not Supported";
    }
}
