using System.Globalization;
using System.CommandLine;
using CostModel.Samples;

namespace CostModel.GossipNode;

/// <summary>Command-line arguments of the gossip node.</summary>
internal sealed record NodeArguments
{
    private const string Description = """
        One mesh node: this machine's real factors, gossip over UDP (or through a NATS server with
        --nats), and a route each second. Prints one line per event: "ready ID PORT" ("ready ID nats"), "change ID KIND", "route TARGET ..." and
        "status ..." once a second. Runs until --duration ends, stdin closes or Ctrl+C.
        Every node of a mesh needs the same --key (e.g. from 'openssl rand -base64 32'); without
        one, --allow-unauthenticated lets anyone who reaches the port read and forge the mesh.
        """;

    public required string NodeId { get; init; }

    public int Port { get; private init; }

    public required string Bind { get; init; }

    public IReadOnlyList<string> Seeds { get; private init; } = [];

    public string? Key { get; private init; }

    /// <summary>Null: gossip over UDP. Else the NATS server's URL: gossip through it (--port, --bind and --seed are then unused).</summary>
    public string? Nats { get; private init; }

    public bool AllowUnauthenticated { get; private init; }

    public required string Model { get; init; }

    public double DecodeTokensPerSecond { get; private init; }

    /// <summary>Null: the library's default applies (so for DeadAfter and RemoveAfter too).</summary>
    public TimeSpan? Heartbeat { get; private init; }

    public TimeSpan? DeadAfter { get; private init; }

    public TimeSpan? RemoveAfter { get; private init; }

    /// <summary>Null: run until stdin closes or Ctrl+C.</summary>
    public TimeSpan? Duration { get; private init; }

    /// <summary>Parses the command line; answers <c>--help</c> and usage errors itself.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="exitCode">The code to exit with when the result is null: 0 after the help, 2 after a usage error.</param>
    /// <returns>The arguments, or null when the program should end.</returns>
    /// <summary>
    /// The flags as configuration keys (what an <c>appsettings.json</c> would say), laid over any
    /// configuration file: the node is configured exactly as a host configures the library.
    /// </summary>
    public Dictionary<string, string?> ToConfiguration()
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["CostModel:NodeId"] = NodeId,
            ["CostModel:Gossip:AllowUnauthenticated"] = AllowUnauthenticated ? "true" : null,
            ["CostModel:Gossip:DeadAfter"] = DeadAfter?.ToString("c", CultureInfo.InvariantCulture),
            ["CostModel:Gossip:RemoveAfter"] = RemoveAfter?.ToString("c", CultureInfo.InvariantCulture),
        };
        if (Nats is { } url)
        {
            // Through NATS the adapter pushes and relays nothing: the server delivers each message to every node.
            settings["CostModel:Gossip:Dissemination"] = nameof(CostModel.Gossip.GossipDissemination.Push);
            settings["CostModel:Gossip:RetransmitMultiplier"] = "0";
            settings["CostModel:Gossip:Nats:Url"] = url;
        }
        else
        {
            // The UDP transport runs the rounds: the adapter answers its pulls.
            settings["CostModel:Gossip:Dissemination"] = nameof(CostModel.Gossip.GossipDissemination.Pull);
            settings["CostModel:Gossip:Udp:BindAddress"] = Bind;
            settings["CostModel:Gossip:Udp:Port"] = Port.ToString(CultureInfo.InvariantCulture);
        }

        if (Key is { } key)
        {
            settings["CostModel:Gossip:Keys:0"] = key;
        }

        if (Heartbeat is { } heartbeat)
        {
            TimeSpan minPublish = heartbeat < CostModel.Gossip.GossipDefaults.MinPublishInterval ? heartbeat : CostModel.Gossip.GossipDefaults.MinPublishInterval;
            settings["CostModel:Gossip:MaxSilence"] = heartbeat.ToString("c", CultureInfo.InvariantCulture);
            settings["CostModel:Gossip:MinPublishInterval"] = minPublish.ToString("c", CultureInfo.InvariantCulture);
        }

        for (int i = 0; i < Seeds.Count; i++)
        {
            settings[$"CostModel:Gossip:Udp:SeedPeers:{i}"] = Seeds[i];
        }

        return settings;
    }

    public static NodeArguments? Parse(string[] args, out int exitCode)
    {
        var nodeId = new Option<string>("--node-id") { Description = "this node's id in the mesh", HelpName = "ID", DefaultValueFactory = _ => Environment.MachineName };
        Option<int> port = CommandLineOptions.Integer("--port", "N", "UDP port; 0 takes a free one (the ready line names it)", 0, 65_535, defaultValue: 0);
        var bind = new Option<string>("--bind") { Description = "the address to listen on", HelpName = "ADDRESS", DefaultValueFactory = _ => "127.0.0.1" };
        var seeds = new Option<string[]>("--seed") { Description = "a node to join the mesh through; repeat for several", HelpName = "HOST:PORT" };
        var nats = new Option<string>("--nats") { Description = "gossip through this NATS server instead of UDP (e.g. nats://127.0.0.1:4222)", HelpName = "URL" };
        var key = new Option<string>("--key") { Description = "the mesh's key, the same on every node", HelpName = "BASE64" };
        var allowUnauthenticated = new Option<bool>("--allow-unauthenticated") { Description = "gossip without a key, on a network where every host is trusted" };
        var model = new Option<string>("--model") { Description = "the model this node serves", HelpName = "ID", DefaultValueFactory = _ => "llama-3.1-8b" };
        Option<double> decode = CommandLineOptions.Positive("--decode", "TOKENS_PER_S", "its decode speed (prefill: ten times that)", defaultValue: 20);
        Option<double> heartbeat = CommandLineOptions.Positive("--heartbeat", "SECONDS", "the longest this node stays silent");
        Option<double> deadAfter = CommandLineOptions.Positive("--dead-after", "SECONDS", "silence after which a peer is dead");
        Option<double> removeAfter = CommandLineOptions.Positive("--remove-after", "SECONDS", "how long a dead peer stays in the view");
        Option<double> duration = CommandLineOptions.Positive("--duration", "SECONDS", "stop after this long");
        var command = new RootCommand(Description)
        {
            nodeId, port, bind, seeds, nats, key, allowUnauthenticated, model, decode, heartbeat, deadAfter, removeAfter, duration,
        };

        if (CommandLineOptions.Parse(command, args, out exitCode) is not { } result)
        {
            return null;
        }

        // The periods have no default here: when absent the library's own applies.
        TimeSpan? Seconds(Option<double> option) => result.GetResult(option) is null ? null : TimeSpan.FromSeconds(result.GetValue(option));
        return new NodeArguments
        {
            NodeId = result.GetRequiredValue(nodeId),
            Port = result.GetValue(port),
            Bind = result.GetRequiredValue(bind),
            Seeds = result.GetValue(seeds) ?? [],
            Key = result.GetValue(key),
            Nats = result.GetValue(nats),
            AllowUnauthenticated = result.GetValue(allowUnauthenticated),
            Model = result.GetRequiredValue(model),
            DecodeTokensPerSecond = result.GetValue(decode),
            Heartbeat = Seconds(heartbeat),
            DeadAfter = Seconds(deadAfter),
            RemoveAfter = Seconds(removeAfter),
            Duration = Seconds(duration),
        };
    }
}
