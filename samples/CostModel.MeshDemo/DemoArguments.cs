using System.Globalization;

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

    public const string Usage = """
        Usage: CostModel.MeshDemo [--duration SECONDS] [--forever] [--rate N] [--seed N] [--help]

        A mesh on this machine: this machine (real probes) and simulated peers (laptop, desktop,
        gpu-box) gossip over UDP on 127.0.0.1; a paid API is priced from the bundled table.
        this-machine's router places a stream of requests, one line each; scripted events
        (laptop unplugged, desktop throttling, gpu-box freed) shift the decisions; a summary
        table ends the run.

          --duration SECONDS  length of the script (default 40, at least 8)
          --forever           loop the script until Ctrl+C
          --rate N            requests per second (default 2, at most 20)
          --seed N            seed of the request mix, the latency jitter and the router's tie-breaks (default 1)
          --help              this text
        """;

    public TimeSpan Duration { get; private init; } = TimeSpan.FromSeconds(DefaultDurationSeconds);

    public bool Forever { get; private init; }

    public double Rate { get; private init; } = DefaultRate;

    public int Seed { get; private init; } = 1;

    public bool Help { get; private init; }

    /// <exception cref="ArgumentException">An unknown flag or a bad value.</exception>
    public static DemoArguments Parse(string[] args)
    {
        var result = new DemoArguments();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            double Number(double min, double max)
            {
                string flag = args[i];
                return double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n >= min && n <= max
                    ? n
                    : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{flag} needs a number from {min} to {max}."));
            }

            result = args[i] switch
            {
                "--duration" => result with { Duration = TimeSpan.FromSeconds(Number(MinDurationSeconds, TimeSpan.FromDays(1).TotalSeconds)) },
                "--forever" => result with { Forever = true },
                "--rate" => result with { Rate = Number(0.1, MaxRate) },
                "--seed" => result with { Seed = int.TryParse(Value(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int s) ? s : throw new ArgumentException("--seed needs an integer.") },
                "--help" or "-h" => result with { Help = true },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'."),
            };
        }

        return result;
    }
}
