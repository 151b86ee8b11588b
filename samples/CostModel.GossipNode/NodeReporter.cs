using System.Globalization;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Nats;
using CostModel.Gossip.Udp;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.Hosting;

namespace CostModel.GossipNode;

/// <summary>
/// What the sample prints, one line per event: <c>change ID KIND</c> as the view changes,
/// <c>ready ID PORT</c> once the transport listens (<c>ready ID nats</c> through NATS), then every second a <c>route ...</c> line (one
/// request routed, its lease released: this sample runs no model) and a <c>status ...</c> line.
/// </summary>
internal sealed class NodeReporter : BackgroundService
{
    private readonly NodeArguments _arguments;
    private readonly GossipAdapter _adapter;
    private readonly UdpGossipTransport? _udp;
    private readonly NatsGossipTransport? _nats;
    private readonly IMeshView _view;
    private readonly IRouter _router;
    private readonly IDisposable _changes;
    private readonly Lock _output = new();

    public NodeReporter(NodeArguments arguments, GossipAdapter adapter, IServiceProvider services, IMeshView view, IRouter router)
    {
        _arguments = arguments;
        _adapter = adapter;
        // One of the two transports is registered, as --nats chose.
        _udp = (UdpGossipTransport?)services.GetService(typeof(UdpGossipTransport));
        _nats = (NatsGossipTransport?)services.GetService(typeof(NatsGossipTransport));
        _view = view;
        _router = router;

        // Subscribed when the host builds its services, before any of them starts: no change is missed.
        _changes = view.Changes.Subscribe(change =>
        {
            if (change.Kind != MeshChangeKind.Updated)
            {
                Say($"change {change.NodeId} {change.Kind}");
            }
        });
        adapter.SetCapabilities(new NodeCapabilities(arguments.NodeId, 1)
        {
            Models = [new ServedModel(arguments.Model) { DecodeTokensPerSecond = arguments.DecodeTokensPerSecond, PrefillTokensPerSecond = arguments.DecodeTokensPerSecond * 10, ParallelSlots = 2 }],
        });
    }

    public override void Dispose()
    {
        _changes.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Hosted services start in order: the adapter and the transport (registered first) are running.
        if (_arguments.Key is null)
        {
            Say("warning gossip runs without a key (--allow-unauthenticated): anyone who reaches this port can read and forge the mesh's state");
        }

        Say($"ready {_arguments.NodeId} {(_udp is null ? "nats" : _udp.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture))}");
        var request = new RequestProfile(_arguments.Model) { InputTokens = 500, OutputTokens = 200, PayloadBytes = 4_000 };
        using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await ticker.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                RouteDecision decision = _router.Route(request);
                decision.Lease.Dispose();
                Say($"route {decision}");
                GossipStatistics stats = _adapter.Statistics;
                Say(string.Create(CultureInfo.InvariantCulture,
                    $"status alive={Peers(NodeLiveness.Alive)} suspect={Peers(NodeLiveness.Suspect)} dead={Peers(NodeLiveness.Dead)} received={stats.Received} rejected={stats.Rejected} merged={stats.Merged} published={stats.Published} sent={_udp?.Stats.DatagramsSent ?? _nats?.Stats.MessagesSent ?? 0}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The host is stopping.
        }
    }

    private string Peers(NodeLiveness liveness) =>
        string.Join(',', _view.Nodes.Where(n => !n.IsLocal && n.Liveness == liveness).Select(n => n.NodeId).Order(StringComparer.Ordinal));

    private void Say(string line)
    {
        lock (_output)
        {
            Console.WriteLine(line);
        }
    }
}
