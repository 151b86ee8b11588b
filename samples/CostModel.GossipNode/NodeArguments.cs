using System.Globalization;

namespace CostModel.GossipNode;

/// <summary>Command-line arguments of the gossip node.</summary>
internal sealed record NodeArguments
{
    public const string Usage = """
        Usage: CostModel.GossipNode --node-id ID [--port N] [--bind ADDRESS] [--seed HOST:PORT]...
                                    (--key BASE64 | --allow-unauthenticated) [--model ID] [--decode TOKENS_PER_S]
                                    [--heartbeat SECONDS] [--dead-after SECONDS] [--remove-after SECONDS]
                                    [--duration SECONDS]
        Prints one line per event: "ready ID PORT", "change ID KIND", "route TARGET ..." and
        "status ..." once a second. Runs until --duration ends, stdin closes or Ctrl+C.
        Every node of a mesh needs the same --key (e.g. from 'openssl rand -base64 32'); without
        one, --allow-unauthenticated lets anyone who reaches the port read and forge the mesh.
        """;

    public string NodeId { get; private init; } = Environment.MachineName;

    public int Port { get; private init; }

    public string Bind { get; private init; } = "127.0.0.1";

    public IReadOnlyList<string> Seeds { get; private init; } = [];

    public string? Key { get; private init; }

    public bool AllowUnauthenticated { get; private init; }

    public string Model { get; private init; } = "llama-3.1-8b";

    public double DecodeTokensPerSecond { get; private init; } = 20;

    public TimeSpan? Heartbeat { get; private init; }

    public TimeSpan? DeadAfter { get; private init; }

    public TimeSpan? RemoveAfter { get; private init; }

    public TimeSpan? Duration { get; private init; }

    public bool Help { get; private init; }

    /// <exception cref="ArgumentException">An unknown flag or a bad value.</exception>
    public static NodeArguments Parse(string[] args)
    {
        var result = new NodeArguments();
        var seeds = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            double Number() => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n > 0
                ? n
                : throw new ArgumentException($"{args[i - 1]} needs a positive number.");
            if (args[i] == "--seed")
            {
                seeds.Add(Value());
                continue;
            }

            result = args[i] switch
            {
                "--node-id" => result with { NodeId = Value() },
                "--port" => result with { Port = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p <= 65_535 ? p : throw new ArgumentException("--port needs 0 to 65535.") },
                "--bind" => result with { Bind = Value() },
                "--key" => result with { Key = Value() },
                "--allow-unauthenticated" => result with { AllowUnauthenticated = true },
                "--model" => result with { Model = Value() },
                "--decode" => result with { DecodeTokensPerSecond = Number() },
                "--heartbeat" => result with { Heartbeat = TimeSpan.FromSeconds(Number()) },
                "--dead-after" => result with { DeadAfter = TimeSpan.FromSeconds(Number()) },
                "--remove-after" => result with { RemoveAfter = TimeSpan.FromSeconds(Number()) },
                "--duration" => result with { Duration = TimeSpan.FromSeconds(Number()) },
                "--help" or "-h" => result with { Help = true },
                _ => throw new ArgumentException($"Unknown argument '{args[i]}'."),
            };
        }

        return result with { Seeds = seeds };
    }
}
