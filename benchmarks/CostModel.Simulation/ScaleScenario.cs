using System.Globalization;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>
/// Generates the scale scenario: a mesh of any size with the mix of machines of the built-in
/// scenarios, for measuring how the simulator's wall time and memory grow with the node count.
/// Named <c>scale:N</c> (or <c>scale:N:SECONDS</c>) on the command line.
/// </summary>
/// <remarks>
/// Node <c>i</c> (from 0) is, by <c>i mod 10</c>: 0 a GPU box (fast, 4 slots); 1 to 5 a desktop
/// (2 slots); 6 and 7 a laptop with a 60 Wh battery (6 on mains, 7 unplugged at 80 %), which
/// throttles when hot; 8 a slow small-form-factor box behind a metered link; 9 a router only (a
/// phone or a client with no model). Speeds vary by up to +/- 20 % from a generator seeded by the
/// node count, so the mesh is the same for a given size. Every node gossips; a share of them
/// (<see cref="DefaultRouterShare"/>, spread evenly: by default the router-only clients) sends the
/// requests, 3 a minute per node of the mesh in all (half the simulator's default: a 1,000-node mesh
/// receives 50 a second, within its capacity); one API endpoint. Events: 20 % into the run the first
/// desktop crashes, at 40 % the first plugged-in laptop is unplugged, at 60 % the crashed desktop recovers.
/// </remarks>
internal static class ScaleScenario
{
    /// <summary>The command-line name prefix: <c>scale:1000</c>, <c>scale:1000:60</c> or <c>scale:1000:60:1</c>.</summary>
    public const string Prefix = "scale:";

    /// <summary>The default virtual duration: 60 s, the scale goal (1,000 nodes, 60 s).</summary>
    public const double DefaultDurationSeconds = 60;

    /// <summary>The most nodes a generated scenario may have: the gossip view's default cap (4,096) is the library's bound, 10,000 is the simulator's.</summary>
    public const int MaxNodes = 10_000;

    /// <summary>
    /// 0.1: one node in ten sends requests (the clients). Each router holds a routing view of the
    /// whole mesh (about 1.6 KB per node it sees), so the share of routers sets most of a large
    /// run's memory: at 1,000 nodes every node routing needs some 1.6 GB for the views alone.
    /// </summary>
    public const double DefaultRouterShare = 0.1;

    // Three requests a minute per node of the mesh, shared by the routers: half the simulator's
    // default of 6, so that a large mesh is loaded, not saturated (1,000 nodes: 50 requests/s
    // against ~900 serving nodes).
    private const double RequestsPerMinutePerNode = 3;

    // +/- 20 % around each machine kind's speed: near-equal nodes, not identical ones.
    private const double SpeedSpread = 0.2;

    /// <summary>Parses <c>scale:N</c>, <c>scale:N:SECONDS</c> or <c>scale:N:SECONDS:ROUTER_SHARE</c>; null when <paramref name="name"/> is not a scale name.</summary>
    /// <param name="name">The command-line scenario name.</param>
    /// <returns>The scenario, or null when the name does not start with <see cref="Prefix"/>.</returns>
    /// <exception cref="ArgumentException">The name starts with the prefix but its numbers are missing or out of range.</exception>
    public static Scenario? TryParse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        string[] parts = name[Prefix.Length..].Split(':');
        if (parts.Length is < 1 or > 3
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int nodes)
            || nodes is < 1 or > MaxNodes)
        {
            throw new ArgumentException($"'{name}': expected scale:NODES[:SECONDS[:ROUTER_SHARE]] with 1 to {MaxNodes} nodes.", nameof(name));
        }

        double seconds = DefaultDurationSeconds;
        if (parts.Length >= 2
            && (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || !(seconds > 0) || seconds > SimulationDefaults.MaxDurationSeconds))
        {
            throw new ArgumentException($"'{name}': the duration must be a number of seconds in (0, {SimulationDefaults.MaxDurationSeconds}].", nameof(name));
        }

        double share = DefaultRouterShare;
        if (parts.Length == 3
            && (!double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out share) || !(share > 0) || share > 1))
        {
            throw new ArgumentException($"'{name}': the router share must be in (0, 1].", nameof(name));
        }

        return Generate(nodes, seconds, share);
    }

    /// <summary>The scale scenario with <paramref name="nodes"/> nodes and <paramref name="durationSeconds"/> of workload.</summary>
    /// <param name="nodes">1 to <see cref="MaxNodes"/>.</param>
    /// <param name="durationSeconds">Virtual workload time.</param>
    /// <param name="routerShare">The share of nodes that send requests, in (0, 1]; at least one node does.</param>
    /// <returns>A valid scenario named <c>scale-N</c>.</returns>
    public static Scenario Generate(int nodes, double durationSeconds = DefaultDurationSeconds, double routerShare = DefaultRouterShare)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nodes, MaxNodes);
        if (!(routerShare > 0) || routerShare > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(routerShare), routerShare, "The router share must be in (0, 1].");
        }
        var random = new Random(nodes);
        double Vary(double value) => Math.Round(value * (1 + (SpeedSpread * ((2 * random.NextDouble()) - 1))), 1);
        SimulatedModel Model(double prefill, double decode, int slots) => new()
        {
            Id = SimulationDefaults.Model,
            PrefillTokensPerSecond = Vary(prefill),
            DecodeTokensPerSecond = Vary(decode),
            ParallelSlots = slots,
        };

        var scenario = new Scenario
        {
            Name = string.Create(CultureInfo.InvariantCulture, $"scale-{nodes}"),
            Description = string.Create(CultureInfo.InvariantCulture, $"Generated scale scenario: {nodes} nodes (GPU boxes, desktops, laptops, metered boxes, router-only clients), one API, a crash, an unplug and a recovery."),
            DurationSeconds = durationSeconds,
            Apis = [new SimulatedApi { Id = "cloud-api" }],
        };

        int digits = nodes.ToString(CultureInfo.InvariantCulture).Length;
        string? firstDesktop = null;
        string? firstLaptop = null;
        for (int i = 0; i < nodes; i++)
        {
            int kind = i % 10;
            string id = kind switch
            {
                0 => "gpu-",
                <= 5 => "desk-",
                <= 7 => "laptop-",
                8 => "edge-",
                _ => "client-",
            } + i.ToString("D" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            var node = new SimulatedNode { Id = id };
            switch (kind)
            {
                case 0:
                    node.Models = [Model(2_000, 60, 4)];
                    node.Power = new SimulatedPower { IdleWatts = 60, ActiveWatts = 350 };
                    node.Network = new SimulatedLink { RttMilliseconds = 2, BandwidthMegabitsPerSecond = 1_000 };
                    break;
                case <= 5:
                    node.Models = [Model(400, 30, 2)];
                    node.Power = new SimulatedPower { IdleWatts = 40, ActiveWatts = 150 };
                    firstDesktop ??= id;
                    break;
                case <= 7:
                    node.Models = [Model(250, 20, 1)];
                    node.Power = new SimulatedPower { BatteryWattHours = 60, BatteryPercent = 80, PluggedIn = kind == 6, IdleWatts = 8, ActiveWatts = 40 };
                    node.Thermal = new SimulatedThermal();
                    node.Network = new SimulatedLink { RttMilliseconds = 8, BandwidthMegabitsPerSecond = 200 };
                    if (kind == 6)
                    {
                        firstLaptop ??= id;
                    }

                    break;
                case 8:
                    node.Models = [Model(150, 12, 1)];
                    node.Power = new SimulatedPower { IdleWatts = 6, ActiveWatts = 20 };
                    node.Network = new SimulatedLink { RttMilliseconds = 40, BandwidthMegabitsPerSecond = 20, Metered = true };
                    break;
                default:
                    node.Network = new SimulatedLink { RttMilliseconds = 20, BandwidthMegabitsPerSecond = 50 };
                    break;
            }

            scenario.Nodes.Add(node);

            // Spread evenly: node i routes when the running count of routers steps up at it (share 0.1: nodes 9, 19, ...).
            if (Math.Floor((i + 1) * routerShare) > Math.Floor(i * routerShare))
            {
                scenario.Workload.Routers.Add(id);
            }
        }

        if (scenario.Workload.Routers.Count == 0)
        {
            scenario.Workload.Routers.Add(scenario.Nodes[^1].Id);
        }

        scenario.Workload.RequestsPerMinute = RequestsPerMinutePerNode * nodes / scenario.Workload.Routers.Count;

        if (firstDesktop is not null)
        {
            scenario.Events.Add(new ScenarioEvent { AtSeconds = durationSeconds * 0.2, Kind = ScenarioEventKind.Crash, Node = firstDesktop });
            scenario.Events.Add(new ScenarioEvent { AtSeconds = durationSeconds * 0.6, Kind = ScenarioEventKind.Recover, Node = firstDesktop });
        }

        if (firstLaptop is not null)
        {
            scenario.Events.Add(new ScenarioEvent { AtSeconds = durationSeconds * 0.4, Kind = ScenarioEventKind.Unplug, Node = firstLaptop });
        }

        scenario.Events.Sort((a, b) => a.AtSeconds.CompareTo(b.AtSeconds));
        scenario.Validate(scenario.Name);
        return scenario;
    }
}
