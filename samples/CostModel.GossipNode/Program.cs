using System.Globalization;
using CostModel;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Udp;
using CostModel.GossipNode;
using CostModel.Mesh;
using CostModel.Platforms;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;

// One mesh node per process: this machine's real collector, the gossip adapter over UDP and the router.
// --help and usage errors are answered while parsing (exit codes 0 and 2).
if (NodeArguments.Parse(args, out int exitCode) is not { } arguments)
{
    return exitCode;
}

var services = new ServiceCollection();
services.AddMetrics();
services.AddCostModel(o => o.NodeId = arguments.NodeId)
.AddPlatformProbes()
.AddGossip()
.Configure<GossipOptions>(g =>
{
    if (arguments.Key is { } key)
    {
        g.Keys = [key];
    }

    g.AllowUnauthenticated = arguments.AllowUnauthenticated;

    // The UDP transport runs the rounds: the adapter answers its pulls.
    g.Dissemination = GossipDissemination.Pull;
    if (arguments.Heartbeat is { } heartbeat)
    {
        g.MaxSilence = heartbeat;
        g.MinPublishInterval = heartbeat < g.MinPublishInterval ? heartbeat : g.MinPublishInterval;
    }

    g.DeadAfter = arguments.DeadAfter ?? g.DeadAfter;
    g.RemoveAfter = arguments.RemoveAfter ?? g.RemoveAfter;
});

await using ServiceProvider provider = services.BuildServiceProvider();
GossipAdapter adapter;
try
{
    adapter = provider.GetRequiredService<GossipAdapter>();
}
catch (Microsoft.Extensions.Options.OptionsValidationException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

adapter.SetCapabilities(new NodeCapabilities(arguments.NodeId, 1)
{
    Models = [new ServedModel(arguments.Model) { DecodeTokensPerSecond = arguments.DecodeTokensPerSecond, PrefillTokensPerSecond = arguments.DecodeTokensPerSecond * 10, ParallelSlots = 2 }],
});

var output = new Lock();
void Say(string line)
{
    lock (output)
    {
        Console.WriteLine(line);
    }
}

MeshView view = provider.GetRequiredService<MeshView>();
using IDisposable changes = view.Changes.Subscribe(change =>
{
    if (change.Kind != MeshChangeKind.Updated)
    {
        Say($"change {change.NodeId} {change.Kind}");
    }
});

var transportOptions = new UdpGossipOptions { BindAddress = arguments.Bind, Port = arguments.Port };
foreach (string seed in arguments.Seeds)
{
    transportOptions.SeedPeers.Add(seed);
}

await using var transport = new UdpGossipTransport(adapter, transportOptions);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
if (arguments.Duration is { } duration)
{
    stop.CancelAfter(duration);
}

// A parent that closes our stdin (a test harness, a supervisor) stops us too.
_ = Task.Run(async () =>
{
    await Console.In.ReadToEndAsync(stop.Token).ConfigureAwait(false);
    await stop.CancelAsync().ConfigureAwait(false);
});

adapter.Start();
await transport.StartAsync(stop.Token);
if (arguments.Key is null)
{
    Say("warning gossip runs without a key (--allow-unauthenticated): anyone who reaches this port can read and forge the mesh's state");
}

Say($"ready {arguments.NodeId} {transport.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture)}");

IRouter router = provider.GetRequiredService<IRouter>();
var request = new RequestProfile(arguments.Model) { InputTokens = 500, OutputTokens = 200, PayloadBytes = 4_000 };
using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(1));
try
{
    while (await ticker.WaitForNextTickAsync(stop.Token))
    {
        RouteDecision decision = router.Route(request);
        // This sample does not run the model: the lease is released at once.
        decision.Lease.Dispose();

        Say($"route {decision}");
        GossipStatistics stats = adapter.Statistics;
        string Peers(NodeLiveness liveness) => string.Join(',', view.Nodes.Where(n => !n.IsLocal && n.Liveness == liveness).Select(n => n.NodeId).Order(StringComparer.Ordinal));
        Say(string.Create(CultureInfo.InvariantCulture,
            $"status alive={Peers(NodeLiveness.Alive)} suspect={Peers(NodeLiveness.Suspect)} dead={Peers(NodeLiveness.Dead)} received={stats.Received} rejected={stats.Rejected} merged={stats.Merged} published={stats.Published} sent={transport.Stats.DatagramsSent}"));
    }
}
catch (OperationCanceledException)
{
    // Stopping is the normal end of the run.
}

return 0;
