using System.CommandLine;
using CostModel.Samples;

namespace CostModel.MeshDemo;

/// <summary>Command-line arguments of the mesh demo.</summary>
internal sealed record DemoArguments
{
    /// <summary>40 s: four 10-second phases, long enough to watch gossip carry each change, short enough to finish within a minute.</summary>
    public const double DefaultDurationSeconds = 40;

    /// <summary>8 s: the shortest script whose 2-second phases still leave room for gossip to carry a change.</summary>
    public const double MinDurationSeconds = 8;

    /// <summary>2 requests a second: a readable stream, and about one request per node between two of its snapshots.</summary>
    public const double DefaultRate = 2;

    /// <summary>20 requests a second: beyond it the lines scroll faster than anyone reads them.</summary>
    public const double MaxRate = 20;

    private const string Description = """
        A mesh on this machine: this machine (real probes) and simulated peers (laptop, desktop,
        gpu-box) gossip over UDP on 127.0.0.1; a paid API is priced from the bundled table.
        this-machine's router places a stream of requests, one line each; scripted events
        (laptop unplugged, desktop throttling, gpu-box freed) shift the decisions; a summary
        table ends the run.
        """;

    public TimeSpan Duration { get; private init; }

    public bool Forever { get; private init; }

    public double Rate { get; private init; }

    public int Seed { get; private init; }

    /// <summary>Parses the command line; answers <c>--help</c> and usage errors itself.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="exitCode">The code to exit with when the result is null: 0 after the help, 2 after a usage error.</param>
    /// <returns>The arguments, or null when the program should end.</returns>
    public static DemoArguments? Parse(string[] args, out int exitCode)
    {
        Option<double> duration = CommandLineOptions.Number(
            "--duration", "SECONDS", "length of the script in seconds, at least 8", MinDurationSeconds, TimeSpan.FromDays(1).TotalSeconds, DefaultDurationSeconds);
        var forever = new Option<bool>("--forever") { Description = "loop the script until Ctrl+C" };
        Option<double> rate = CommandLineOptions.Number("--rate", "N", "requests per second, at most 20", 0.1, MaxRate, DefaultRate);
        Option<int> seed = CommandLineOptions.Integer(
            "--seed", "N", "seed of the request mix, the latency jitter and the router's tie-breaks", defaultValue: 1);
        var command = new RootCommand(Description) { duration, forever, rate, seed };

        if (CommandLineOptions.Parse(command, args, out exitCode) is not { } result)
        {
            return null;
        }

        return new DemoArguments
        {
            Duration = TimeSpan.FromSeconds(result.GetValue(duration)),
            Forever = result.GetValue(forever),
            Rate = result.GetValue(rate),
            Seed = result.GetValue(seed),
        };
    }
}
