using System.Globalization;

namespace CostModel.Probe;

/// <summary>Command-line arguments of the probe tool.</summary>
internal sealed record ProbeArguments
{
    public const string Usage = """
        CostModel.Probe: prints this machine's cost factors.
          --json             one snapshot as JSON (the schema in docs/json-schema.md)
          --watch            refresh every interval until Ctrl+C
          --interval SEC     sampling interval in seconds (default 1)
          --proc-root DIR    read procfs from DIR instead of /proc
          --sys-root DIR     read sysfs from DIR instead of /sys
          --help             this text
        """;

    public bool Json { get; init; }

    public bool Watch { get; init; }

    public bool Help { get; init; }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    public string? ProcRoot { get; init; }

    public string? SysRoot { get; init; }

    public static ProbeArguments Parse(string[] args)
    {
        var result = new ProbeArguments();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": result = result with { Json = true }; break;
                case "--watch": result = result with { Watch = true }; break;
                case "--help" or "-h": result = result with { Help = true }; break;
                case "--proc-root": result = result with { ProcRoot = Directory(args, ref i) }; break;
                case "--sys-root": result = result with { SysRoot = Directory(args, ref i) }; break;
                case "--interval":
                    string text = Value(args, ref i);
                    if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || seconds < 0.05 || seconds > 3600)
                    {
                        throw new ArgumentException($"--interval takes seconds between 0.05 and 3600, not '{text}'.");
                    }

                    result = result with { Interval = TimeSpan.FromSeconds(seconds) };
                    break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        return result;
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");

    private static string Directory(string[] args, ref int i)
    {
        string path = Value(args, ref i);
        return System.IO.Directory.Exists(path) ? path : throw new ArgumentException($"{args[i - 1]}: '{path}' is not a directory.");
    }
}
