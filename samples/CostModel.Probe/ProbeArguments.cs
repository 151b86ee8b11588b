using System.CommandLine;
using CostModel.Samples;

namespace CostModel.Probe;

/// <summary>Command-line arguments of the probe tool.</summary>
internal sealed record ProbeArguments
{
    public bool Json { get; private init; }

    public bool Watch { get; private init; }

    public TimeSpan Interval { get; private init; }

    public string? ProcRoot { get; private init; }

    public string? SysRoot { get; private init; }

    /// <summary>Parses the command line; answers <c>--help</c> and usage errors itself.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="exitCode">The code to exit with when the result is null: 0 after the help, 2 after a usage error.</param>
    /// <returns>The arguments, or null when the program should end.</returns>
    public static ProbeArguments? Parse(string[] args, out int exitCode)
    {
        var json = new Option<bool>("--json") { Description = "one snapshot as JSON (the schema in docs/json-schema.md)" };
        var watch = new Option<bool>("--watch") { Description = "refresh every interval until Ctrl+C" };
        Option<double> interval = CommandLineOptions.Number("--interval", "SEC", "sampling interval in seconds", 0.05, 3600, defaultValue: 1);
        Option<string> procRoot = Directory("--proc-root", "read procfs from DIR instead of /proc");
        Option<string> sysRoot = Directory("--sys-root", "read sysfs from DIR instead of /sys");
        var command = new RootCommand("Prints this machine's cost factors as a table, or as JSON.") { json, watch, interval, procRoot, sysRoot };

        if (CommandLineOptions.Parse(command, args, out exitCode) is not { } result)
        {
            return null;
        }

        return new ProbeArguments
        {
            Json = result.GetValue(json),
            Watch = result.GetValue(watch),
            Interval = TimeSpan.FromSeconds(result.GetValue(interval)),
            ProcRoot = result.GetValue(procRoot),
            SysRoot = result.GetValue(sysRoot),
        };
    }

    // The path is passed on as typed (not made absolute): the probes resolve it as before.
    private static Option<string> Directory(string name, string description)
    {
        var option = new Option<string>(name) { Description = description, HelpName = "DIR" };
        option.Validators.Add(result =>
        {
            string? path = result.GetValueOrDefault<string>();
            if (path is not null && !System.IO.Directory.Exists(path))
            {
                result.AddError($"{name}: '{path}' is not a directory.");
            }
        });
        return option;
    }
}
