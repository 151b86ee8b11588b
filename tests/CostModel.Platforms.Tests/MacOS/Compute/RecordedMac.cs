using System.Globalization;
using System.Text.RegularExpressions;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.Tests.MacOS.Compute;

/// <summary>
/// Turns the recorded outputs in <c>MacOS/Fixtures/compute</c> (see its README) into what the
/// native layer returns: a <c>vm_stat</c> text into <see cref="VmStatistics64"/>, <c>sysctl</c>
/// lines into integer sysctls, a tick table into per-CPU <see cref="CpuLoadTicks"/> samples.
/// </summary>
internal static partial class RecordedMac
{
    /// <summary>16 GiB, the M4 Mac mini's memory as its source states it.</summary>
    public const long M4MiniMemoryBytes = 16L << 30;

    /// <summary>48 GiB, the M5 Pro MacBook Pro's memory as its source states it.</summary>
    public const long M5ProMemoryBytes = 48L << 30;

    /// <summary>32 GiB, the Intel Mac's memory as inferred in the README (its page classes fill 32 GiB).</summary>
    public const long IntelMemoryBytes = 32L << 30;

    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "MacOS", "Fixtures", "compute", file);

    /// <summary>The statistics a <c>vm_stat</c> text was printed from, and its page size.</summary>
    public static (VmStatistics64 Statistics, long PageBytes) LoadVmStat(string file)
    {
        string text = File.ReadAllText(PathOf(file));
        Match header = PageSizeHeader().Match(text);
        if (!header.Success)
        {
            throw new InvalidDataException($"{file}: no 'page size of N bytes' header");
        }

        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (Match line in VmStatLine().Matches(text))
        {
            values[line.Groups[1].Value.Trim().Trim('"')] = ulong.Parse(line.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        uint Count(string name) => checked((uint)values[name]);
        var stats = new VmStatistics64
        {
            // vm_stat prints free_count - speculative_count as "Pages free".
            FreeCount = checked(Count("Pages free") + Count("Pages speculative")),
            ActiveCount = Count("Pages active"),
            InactiveCount = Count("Pages inactive"),
            SpeculativeCount = Count("Pages speculative"),
            ThrottledCount = Count("Pages throttled"),
            WireCount = Count("Pages wired down"),
            PurgeableCount = Count("Pages purgeable"),
            Faults = values["Translation faults"],
            CowFaults = values["Pages copy-on-write"],
            ZeroFillCount = values["Pages zero filled"],
            Reactivations = values["Pages reactivated"],
            Purges = values["Pages purged"],
            ExternalPageCount = Count("File-backed pages"),
            InternalPageCount = Count("Anonymous pages"),
            TotalUncompressedPagesInCompressor = values["Pages stored in compressor"],
            CompressorPageCount = Count("Pages occupied by compressor"),
            Decompressions = values["Decompressions"],
            Compressions = values["Compressions"],
            Pageins = values["Pageins"],
            Pageouts = values["Pageouts"],
            Swapins = values["Swapins"],
            Swapouts = values["Swapouts"],
        };
        return (stats, long.Parse(header.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>The integer values of <c>sysctl</c> output ("name: value" lines; other values are skipped).</summary>
    public static Dictionary<string, long> LoadSysctl(string file)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(PathOf(file)))
        {
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(line.AsSpan(colon + 2), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                values[line[..colon]] = value;
            }
        }

        return values;
    }

    /// <summary>The samples of a tick table (a new sample starts where the CPU number goes back to 0).</summary>
    public static List<CpuLoadTicks[]> LoadTicks(string file)
    {
        var samples = new List<CpuLoadTicks[]>();
        var current = new List<CpuLoadTicks>();
        foreach (Match row in TickRow().Matches(File.ReadAllText(PathOf(file))))
        {
            int cpu = int.Parse(row.Groups[1].Value, CultureInfo.InvariantCulture);
            if (cpu == 0 && current.Count > 0)
            {
                samples.Add([.. current]);
                current.Clear();
            }

            uint Field(int group) => uint.Parse(row.Groups[group].Value, CultureInfo.InvariantCulture);
            current.Add(new CpuLoadTicks(Field(2), Field(3), Field(4), Field(5)));
        }

        if (current.Count > 0)
        {
            samples.Add([.. current]);
        }

        return samples;
    }

    [GeneratedRegex(@"page size of (\d+) bytes")]
    private static partial Regex PageSizeHeader();

    [GeneratedRegex(@"^(.+?):\s+(\d+)\.\s*$", RegexOptions.Multiline)]
    private static partial Regex VmStatLine();

    [GeneratedRegex(@"^\| (\d+) \| (\d+) \(\d+\) \| (\d+) \(\d+\) \| (\d+) \(\d+\) \| (\d+) \(\d+\) \|", RegexOptions.Multiline)]
    private static partial Regex TickRow();
}
