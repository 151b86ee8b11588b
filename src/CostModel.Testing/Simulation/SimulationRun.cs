using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Mesh;
using CostModel.Scoring;
using CostModel.Testing.Gossip;

namespace CostModel.Testing.Simulation;

/// <summary>
/// One run: the event queue in virtual time, the nodes, the policy and the measurements.
/// Single-threaded; every random draw comes from a seeded source, so the two seeds fix the outcome:
/// the scenario seed the workload, the probes' noise and the gossip network's draws, the router seed
/// the routers' draws (the baseline policies' and the library router's).
/// </summary>
internal sealed class SimulationRun : IDisposable
{
    private const double BitsPerByte = 8;
    private const double BytesPerGigabyte = 1e9;
    private const double MillisecondsPerSecond = 1_000;
    private const double BitsPerMegabit = 1e6;

    // After the workload ends, requests still in flight get this long to finish; then they count as failed.
    private const double DrainSeconds = 600;

    /// <summary>
    /// 1,000,000,000 s (some 32 years): the longest delay the event queue is given, far past the
    /// longest run (one day, <see cref="SimulationDefaults.MaxDurationSeconds"/>) and its drain, and
    /// far inside <see cref="TimeSpan"/>'s range from any start the format takes.
    /// </summary>
    private const double MaxDelaySeconds = 1e9;

    // Unplug reaction: the share of non-interactive work before the unplug is measured over this
    // window, and the share after it in windows of the same bucket length.
    private const double ReactionBaselineSeconds = 30;

    /// <summary>
    /// 100 hosts: the default of <see cref="ParallelRoundsFrom"/>. Writing a round cost each host 19
    /// to 27 us at 1,000 nodes (`scale:1000:20`, docs/simulation.md "Sixth round"), less in a smaller
    /// mesh (a smaller view and relay queue), so a small mesh's round gains little from the second core
    /// against starting the cores' work (not measured apart); and the report runner already runs small
    /// meshes side by side on the cores (`--scenario all`).
    /// </summary>
    internal const int MinParallelRoundHosts = 100;

    private readonly List<SimHost> _hosts = [];
    private readonly Dictionary<string, SimHost> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimulatedApi> _apis = new(StringComparer.Ordinal);
    private readonly PriorityQueue<SimEvent, (long Ticks, long Sequence)> _events = new();
    private readonly List<HashSet<string>> _partitions = [];
    private readonly HashSet<string> _conversationsRouted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Conversation> _conversations = new(StringComparer.Ordinal);
    private readonly List<SimRequest> _requests;
    private readonly List<(double Time, string Target, bool NonInteractive)> _decisions = [];
    private readonly List<BatterySample> _battery = [];
    private readonly Dictionary<int, Dictionary<string, int>> _burstCounts = [];
    private readonly Dictionary<int, int> _burstLiveNodes = [];
    private readonly Dictionary<string, double> _apiInFlightDollars = new(StringComparer.Ordinal);
    private readonly VirtualClock _time;
    private readonly InMemoryNetwork _network;

    // The nodes' capabilities, decoded once for the whole mesh rather than once per node that hears them.
    private readonly CapabilitiesInterner _capabilities = new();
    private readonly Policy _policy;
    private readonly long _startTicks;
    private readonly long _endTicks;
    private readonly double _floor;
    private long _sequence;
    private int _outstanding;
    private int _violations;
    private FloorViolation? _firstViolation;
    private int _flaps;
    private int _justifiedFlaps;
    private int _followUps;
    private double _meteredBytes;
    private double _apiDollars;
    private int _apiRequests;

    // Each host's gossip round when written on several cores, then sent in the hosts' order (GossipRound).
    private byte[][] _roundBuffers = [];
    private int[] _roundLengths = [];

    // The nodes' gossip round, the scenario's Gossip:Interval (every node binds the same section).
    private readonly TimeSpan _gossipInterval = GossipDefaults.Interval;

    public SimulationRun(Scenario scenario, string policyId, int seed, int routerSeed)
    {
        Scenario = scenario;
        PolicyId = policyId;
        Seed = seed;
        _policy = Policy.Create(policyId);
        DateTimeOffset start = scenario.StartTime;
        _startTicks = start.UtcTicks;
        _endTicks = _startTicks + TimeSpan.FromSeconds(scenario.DurationSeconds).Ticks;
        _time = new VirtualClock(start - TimeSpan.FromSeconds(scenario.WarmupSeconds));
        _network = new InMemoryNetwork(_time, seed) { DefaultConditions = new LinkConditions { Delay = TimeSpan.FromMilliseconds(scenario.GossipDelayMilliseconds) } };
        foreach (SimulatedApi api in scenario.Apis)
        {
            _apis.Add(api.Id, api);
        }

        try
        {
            for (int i = 0; i < scenario.Nodes.Count; i++)
            {
                var host = new SimHost(scenario, scenario.Nodes[i], i, _time, _network, seed, routerSeed, _capabilities);
                _hosts.Add(host);
                _byId.Add(host.Id, host);
            }

            // The links carry the messages the nodes write: a scenario that raises or lowers
            // Gossip:Mtu in its costModel section gets it on the network too (every node binds the
            // same section), where the network's default would silently drop or cap them; and the
            // simulator, the nodes' host, sends their rounds at their Gossip:Interval.
            if (_hosts.Count > 0)
            {
                _network.DefaultConditions = _network.DefaultConditions with { Mtu = _hosts[0].Gossip.Mtu };
                _gossipInterval = _hosts[0].Gossip.Interval;
            }

            ScenarioRuntime.ApplyGossip(_network, scenario);
        }
        catch
        {
            Dispose();
            throw;
        }

        _floor = _hosts[0].Scoring.BatteryReserveFloorPercent;
        _requests = WorkloadGenerator.Generate(scenario, seed);
    }

    public Scenario Scenario { get; }

    public string PolicyId { get; }

    public int Seed { get; }

    /// <summary>The simulated nodes, in the scenario's order.</summary>
    internal IReadOnlyList<SimHost> Hosts => _hosts;

    /// <summary>The in-memory network the nodes gossip over.</summary>
    internal InMemoryNetwork GossipNetwork => _network;

    /// <summary>
    /// Whether the hosts' gossip rounds are written on all cores when nothing can be delivered at
    /// their instant (see <see cref="GossipRound"/>); off by default, on in <see cref="MeshSimulator.Run(Scenario, string, int, int)"/>
    /// where there are several cores. The same result either way.
    /// </summary>
    internal bool ParallelRounds { get; set; }

    /// <summary>The fewest hosts whose rounds <see cref="ParallelRounds"/> writes on all cores: <see cref="MinParallelRoundHosts"/> unless a test lowers it.</summary>
    internal int ParallelRoundsFrom { get; set; } = MinParallelRoundHosts;

    /// <summary>How many gossip rounds were written on all cores (the others one host after the other).</summary>
    internal int ParallelRoundCount { get; private set; }

    internal double Now => TimeSpan.FromTicks(_time.GetUtcNow().UtcTicks - _startTicks).TotalSeconds;

    public void Dispose()
    {
        foreach (SimHost host in _hosts)
        {
            host.Dispose();
        }

        _network.Dispose();
    }

    public SimulationResult Run()
    {
        Schedule(_time.GetUtcNow().UtcTicks + _gossipInterval.Ticks, new SimEvent(EventKind.Gossip));
        Schedule(_startTicks, new SimEvent(EventKind.Sample));
        foreach (SimRequest r in _requests)
        {
            Schedule(At(r.ArrivalSeconds), new SimEvent(EventKind.Arrival, r));
        }

        foreach (ScenarioEvent e in Scenario.Events)
        {
            Schedule(At(e.AtSeconds), new SimEvent(EventKind.Scenario, Scenario: e));
        }

        _outstanding = _requests.Count;
        long hardEnd = _endTicks + TimeSpan.FromSeconds(DrainSeconds).Ticks;
        while (_events.TryDequeue(out SimEvent ev, out (long Ticks, long Sequence) key))
        {
            if (key.Ticks > hardEnd)
            {
                break;
            }

            long now = _time.GetUtcNow().UtcTicks;
            if (key.Ticks > now)
            {
                _time.Advance(TimeSpan.FromTicks(key.Ticks - now));
            }

            UpdateNodes();
            Handle(ev);
            if (_outstanding == 0 && key.Ticks >= _endTicks)
            {
                break;
            }
        }

        return Measure();
    }

    /// <summary>The router's live candidates as baselines see them: alive nodes in its mesh view serving the model, by id, then the API endpoints.</summary>
    public List<Target> Candidates(SimHost router)
    {
        var list = new List<Target>();
        foreach (MeshNode n in router.View.Nodes)
        {
            if (n.Liveness == NodeLiveness.Alive && _byId.TryGetValue(n.NodeId, out SimHost? host)
                && n.Capabilities.Models.Length > 0)
            {
                list.Add(new Target(n.NodeId, host, null, n));
            }
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        foreach (SimulatedApi api in _apis.Values)
        {
            list.Add(new Target(api.Id, null, api, null));
        }

        return list;
    }

    /// <summary>Every target in the simulation (the oracle's view): nodes serving the model, then API endpoints.</summary>
    public IEnumerable<Target> AllTargets(SimHost router)
    {
        foreach (SimHost h in _hosts)
        {
            if (h.Node.Models.Count > 0)
            {
                yield return new Target(h.Id, h, null, null);
            }
        }

        foreach (SimulatedApi api in _apis.Values)
        {
            yield return new Target(api.Id, null, api, null);
        }
    }

    /// <summary>Dollars of API requests this router has in flight (the oracle counts them against the cap).</summary>
    public double ApiDollarsInFlight(SimHost router) => _apiInFlightDollars.GetValueOrDefault(router.Id);

    /// <summary>The true latency of the request on the target if sent now; infinity when it would fail.</summary>
    public double TrueLatency(SimHost router, Target t, SimRequest r)
    {
        if (t.Api is { } api)
        {
            return ApiSeconds(router, api, r);
        }

        SimHost target = t.Node!;
        NodeModel n = target.Node;
        if (n.IsDown || n.Fault == NodeFault.FailFast || !CanReach(router.Id, target.Id))
        {
            return double.PositiveInfinity;
        }

        (double send, double back) = Network(router, target, r.PayloadBytes);
        double arrive = Now + send;

        // When does a slot free for this request? Running requests end at known times; queued ones
        // take their service time at the current speed, first come first served.
        var free = new PriorityQueue<double, double>();
        foreach (SimRequest a in n.Active)
        {
            double end = TimeSpan.FromTicks(a.ServiceEndTicks - _startTicks).TotalSeconds;
            free.Enqueue(end, end);
        }

        for (int i = n.Active.Count; i < n.Slots; i++)
        {
            free.Enqueue(Now, Now);
        }

        foreach (SimRequest q in n.Waiting)
        {
            double s = free.Dequeue();
            double e = s + n.ServiceSeconds(q);
            free.Enqueue(e, e);
        }

        double startAt = Math.Max(arrive, free.Dequeue());
        return startAt + n.ServiceSeconds(r) + back - Now;
    }

    /// <summary>
    /// A delay in ticks, at most <see cref="MaxDelaySeconds"/>: what lies past it is past the run's
    /// end, so it never happens either way, where the product of bounded fields (a 10 M-token prompt
    /// on a node prefilling 0.01 tokens/s, throttled, loaded and slowed a thousandfold) would overflow
    /// <see cref="TimeSpan"/> (about 29,000 years).
    /// </summary>
    private static long Ticks(double seconds) => TimeSpan.FromSeconds(Math.Min(seconds, MaxDelaySeconds)).Ticks;

    private static GossipSummary? GossipSummaryOf(List<SimHost> hosts)
    {
        if (hosts.Count == 0)
        {
            return null;
        }

        long merged = 0;
        long late = 0;
        foreach (SimHost h in hosts)
        {
            GossipStatistics statistics = h.Adapter.Statistics;
            merged += statistics.Merged;
            late += statistics.MergedLate;
        }

        return new GossipSummary
        {
            Merged = merged,
            Late = late,
            HeartbeatSeconds = hosts[0].Gossip.MaxSilence.TotalSeconds,
        };
    }

    private long At(double secondsAfterStart) => _startTicks + Ticks(secondsAfterStart);

    private void Schedule(long ticks, SimEvent e) => _events.Enqueue(e, (ticks, _sequence++));

    private void ScheduleIn(double seconds, SimEvent e) => Schedule(_time.GetUtcNow().UtcTicks + Ticks(Math.Max(0, seconds)), e);

    private void UpdateNodes()
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (SimHost h in _hosts)
        {
            if (h.Node.Update(now))
            {
                // The battery ran empty: the machine is off, like a crash that never recovers.
                GoDown(h);
            }
        }
    }

    /// <summary>
    /// Every host that is up gossips once, in the hosts' order. With <see cref="ParallelRounds"/> on,
    /// at least <see cref="ParallelRoundsFrom"/> hosts and nothing deliverable at this instant
    /// (<see cref="InMemoryNetwork.DeliversNothingNow"/>), the hosts write their rounds on all cores,
    /// then send them one after the other in that order: what one writes cannot depend on what
    /// another sends at the same instant (it is only queued), so the messages, the network's random
    /// draws and the outcome are those of one by one.
    /// </summary>
    private void GossipRound()
    {
        if (!ParallelRounds || _hosts.Count < ParallelRoundsFrom || !_network.DeliversNothingNow())
        {
            foreach (SimHost h in _hosts)
            {
                if (!h.Node.IsDown)
                {
                    h.Endpoint.GossipRound();
                }
            }

            return;
        }

        int mtu = _network.DefaultConditions.Mtu;
        if (_roundBuffers.Length != _hosts.Count || (_hosts.Count > 0 && _roundBuffers[0].Length != mtu))
        {
            _roundBuffers = new byte[_hosts.Count][];
            for (int i = 0; i < _roundBuffers.Length; i++)
            {
                _roundBuffers[i] = new byte[mtu];
            }

            _roundLengths = new int[_hosts.Count];
        }

        Parallel.For(0, _hosts.Count, i => _roundLengths[i] = _hosts[i].Node.IsDown ? 0 : _hosts[i].Endpoint.WriteRound(_roundBuffers[i]));
        ParallelRoundCount++;
        for (int i = 0; i < _hosts.Count; i++)
        {
            if (_roundLengths[i] > 0)
            {
                _hosts[i].Endpoint.SendRound(_roundBuffers[i].AsSpan(0, _roundLengths[i]));
            }
        }
    }

    private void Handle(SimEvent ev)
    {
        switch (ev.Kind)
        {
            case EventKind.Gossip:
                GossipRound();

                if (_time.GetUtcNow().UtcTicks < _endTicks || _outstanding > 0)
                {
                    ScheduleIn(_gossipInterval.TotalSeconds, new SimEvent(EventKind.Gossip));
                }

                break;
            case EventKind.Sample:
                foreach (SimHost h in _hosts)
                {
                    if (h.Node.HasBattery)
                    {
                        _battery.Add(new BatterySample(Math.Round(Now, 3), h.Id, Math.Round(h.Node.BatteryPercent, 3), h.Node.PluggedIn));
                    }
                }

                if (_time.GetUtcNow().UtcTicks < _endTicks)
                {
                    ScheduleIn(MeshSimulator.SampleIntervalSeconds, new SimEvent(EventKind.Sample));
                }

                break;
            case EventKind.Arrival:
                Arrive(ev.Request!);
                break;
            case EventKind.Reach:
                Reach(ev.Request!);
                break;
            case EventKind.ServiceEnd:
                ServiceEnd(ev.Request!);
                break;
            case EventKind.Complete:
                Complete(ev.Request!, ev.Success);
                break;
            case EventKind.Scenario:
                Apply(ev.Scenario!);
                break;
            default:
                throw new InvalidOperationException($"Unknown event {ev.Kind}.");
        }
    }

    private void Arrive(SimRequest r)
    {
        if (r.AffinityKey is { } key)
        {
            // A person sends the next turn of a conversation after reading the last answer.
            if (!_conversations.TryGetValue(key, out Conversation? conversation))
            {
                conversation = new Conversation();
                _conversations.Add(key, conversation);
            }

            if (conversation.Answering)
            {
                conversation.Next.Enqueue(r);
                return;
            }

            conversation.Answering = true;
            r.HistoryTokens = conversation.HistoryTokens;
            r.CachedOn = conversation.CachedOn;
        }

        SimHost router = _byId[r.Router];
        if (router.Node.IsDown)
        {
            // A router that is off receives nothing: the request is lost at its source.
            Fail(r, 0);
            return;
        }

        string? target = _policy.Choose(this, router, r);
        if (target is null)
        {
            Fail(r, 0);
            return;
        }

        r.Target = target;
        Account(router, r, target);
        router.InFlight[target] = router.InFlight.GetValueOrDefault(target) + 1;
        if (_apis.TryGetValue(target, out SimulatedApi? api))
        {
            r.ToApi = true;
            _apiRequests++;
            double dollars = r.ApiDollars = api.DollarsFor(r);
            _apiInFlightDollars[router.Id] = _apiInFlightDollars.GetValueOrDefault(router.Id) + dollars;
            if (router.Node.Link.Metered)
            {
                _meteredBytes += r.PayloadBytes;
            }

            ScheduleIn(ApiSeconds(router, api, r), new SimEvent(EventKind.Complete, r, Success: true));
            return;
        }

        SimHost host = _byId[target];
        if (!ReferenceEquals(host, router))
        {
            // Each metered end pays for the bytes it moves: the router's link sends them, the
            // target's receives them (the library prices both: CostBreakdown.MeteredDollars and
            // RequesterLinkDollars).
            _meteredBytes += (host.Node.Link.Metered ? r.PayloadBytes : 0) + (router.Node.Link.Metered ? r.PayloadBytes : 0);
        }

        if (!CanReach(router.Id, host.Id) || host.Node.IsDown)
        {
            Fail(r, Scenario.RequestTimeoutSeconds);
            return;
        }

        (r.SendSeconds, r.ReturnSeconds) = Network(router, host, r.PayloadBytes);
        if (!ReferenceEquals(host, router) && r.PayloadBytes >= Scoring.BandwidthEstimator.MinTransferBytes)
        {
            // What a host does with its own transfers: report them, so the scorer learns the link.
            router.Bandwidth.ReportTransfer(host.Id, r.PayloadBytes, TimeSpan.FromSeconds(r.SendSeconds));
        }

        ScheduleIn(r.SendSeconds, new SimEvent(EventKind.Reach, r));
    }

    private void Reach(SimRequest r)
    {
        if (r.Done)
        {
            return;
        }

        NodeModel n = _byId[r.Target!].Node;
        if (n.IsDown)
        {
            Fail(r, Math.Max(0, r.ArrivalSeconds + Scenario.RequestTimeoutSeconds - Now));
            return;
        }

        if (n.Fault == NodeFault.FailFast)
        {
            ScheduleIn(Scenario.FailFastSeconds + r.ReturnSeconds, new SimEvent(EventKind.Complete, r, Success: false));
            return;
        }

        n.Arrivals?.Record();
        n.Waiting.Enqueue(r);
        TryStart(n);
    }

    private void TryStart(NodeModel n)
    {
        while (n.Running < n.Slots && n.Waiting.Count > 0)
        {
            SimRequest r = n.Waiting.Dequeue();
            double service = n.ServiceSeconds(r);
            n.Running++;
            n.Active.Add(r);
            r.ServiceEndTicks = _time.GetUtcNow().UtcTicks + Ticks(service);
            Schedule(r.ServiceEndTicks, new SimEvent(EventKind.ServiceEnd, r));
        }
    }

    private void ServiceEnd(SimRequest r)
    {
        NodeModel n = _byId[r.Target!].Node;
        if (r.Done || !n.Active.Remove(r))
        {
            return;
        }

        n.Running--;
        ScheduleIn(r.ReturnSeconds, new SimEvent(EventKind.Complete, r, Success: true));
        TryStart(n);
    }

    private void Fail(SimRequest r, double afterSeconds) => ScheduleIn(afterSeconds, new SimEvent(EventKind.Complete, r, Success: false));

    private void Complete(SimRequest r, bool success)
    {
        if (r.Done)
        {
            return;
        }

        r.Done = true;
        r.Succeeded = success;
        r.LatencySeconds = Now - r.ArrivalSeconds;
        _outstanding--;
        Settle(r, success);

        // The person reads the answer, then sends the conversation's next turn: after the router
        // heard the outcome, so the next turn is not priced behind the one just answered.
        if (r.AffinityKey is { } key)
        {
            Answered(key, r, success);
        }
    }

    /// <summary>A request's router hears its outcome: its in-flight count, API spend and lease settle.</summary>
    private void Settle(SimRequest r, bool success)
    {
        if (r.Target is null)
        {
            return;
        }

        SimHost router = _byId[r.Router];
        router.InFlight[r.Target] = router.InFlight.GetValueOrDefault(r.Target) - 1;
        if (r.ToApi)
        {
            double dollars = r.ApiDollars;
            _apiInFlightDollars[router.Id] -= dollars;
            if (success)
            {
                _apiDollars += dollars;
                router.ApiDollars += dollars;
            }
        }

        if (r.HasLease)
        {
            r.Lease.Complete(new Routing.RouteOutcome(success, r.LatencySeconds, success ? r.OutputTokens : 0));
        }

        _policy.OnOutcome(router, r, r.LatencySeconds);
    }

    /// <summary>A conversation's turn ended: remember it if it succeeded, then send the next turn drawn meanwhile.</summary>
    private void Answered(string key, SimRequest r, bool success)
    {
        Conversation c = _conversations[key];
        c.Answering = false;
        if (success && r.Target is not null)
        {
            Remember(c, r);
        }

        if (c.Next.TryDequeue(out SimRequest? next))
        {
            next.ArrivalSeconds = Now;
            Arrive(next);
        }
    }

    /// <summary>
    /// A turn succeeded: its prompt and answer join the history, now held in the KV cache of the
    /// node that served it (an API keeps none). Past the workload's history bound the client keeps
    /// only this turn, a new prefix that no cache holds.
    /// </summary>
    private void Remember(Conversation c, SimRequest r)
    {
        int history = r.PromptTokens + r.OutputTokens;
        if (history > Scenario.Workload.MaxHistoryTokens)
        {
            c.HistoryTokens = r.InputTokens + r.OutputTokens;
            c.CachedOn = null;
            return;
        }

        c.HistoryTokens = history;
        c.CachedOn = r.ToApi ? null : r.Target;
    }

    private void Apply(ScenarioEvent e)
    {
        SimHost? host = e.Node is { } id ? _byId.GetValueOrDefault(id) : null;
        switch (e.Kind)
        {
            case ScenarioEventKind.Unplug:
                host!.Node.SetPluggedIn(false);
                break;
            case ScenarioEventKind.Plug:
                host!.Node.SetPluggedIn(true);
                break;
            case ScenarioEventKind.Crash:
                host!.Node.Fault = NodeFault.Crashed;
                GoDown(host);
                break;
            case ScenarioEventKind.FailFast:
                host!.Node.Fault = NodeFault.FailFast;
                break;
            case ScenarioEventKind.Slow:
                host!.Node.Fault = NodeFault.Slow;
                host.Node.SlowFactor = e.Factor ?? 1;
                break;
            case ScenarioEventKind.Recover:
                host!.Node.Fault = NodeFault.None;
                host.Node.SlowFactor = 1;
                ApplyCuts();
                break;
            case ScenarioEventKind.Partition:
                _partitions.Add(new HashSet<string>(e.Nodes!, StringComparer.Ordinal));
                ApplyCuts();
                break;
            case ScenarioEventKind.Heal:
                _partitions.Clear();
                ApplyCuts();
                break;
            default:
                if (!ScenarioRuntime.Apply(e, host?.Node, _apis))
                {
                    throw new InvalidOperationException($"Unknown scenario event {e.Kind}.");
                }

                ApplyCuts();
                break;
        }
    }

    /// <summary>A node goes off: what it runs and queues fails after the client timeout; it stops gossiping.</summary>
    private void GoDown(SimHost host)
    {
        NodeModel n = host.Node;
        foreach (SimRequest r in n.Active.Concat(n.Waiting).ToList())
        {
            Fail(r, Math.Max(0, r.ArrivalSeconds + Scenario.RequestTimeoutSeconds - Now));
        }

        n.Active.Clear();
        n.Waiting.Clear();
        n.Running = 0;

        // Its KV cache is gone with it.
        foreach (Conversation c in _conversations.Values)
        {
            if (string.Equals(c.CachedOn, host.Id, StringComparison.Ordinal))
            {
                c.CachedOn = null;
            }
        }
        ApplyCuts();
    }

    /// <summary>The network's cuts: the scenario's partitions, plus each node that is off (it neither sends nor receives).</summary>
    private void ApplyCuts()
    {
        _network.Heal();
        foreach (HashSet<string> cut in _partitions)
        {
            _network.Partition(cut);
        }

        foreach (SimHost h in _hosts)
        {
            if (h.Node.IsDown || h.Node.GossipFrozen)
            {
                _network.Partition(h.Id);
            }
        }
    }

    private bool CanReach(string a, string b)
    {
        foreach (HashSet<string> cut in _partitions)
        {
            if (cut.Contains(a) != cut.Contains(b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Seconds to send the request (half the round trip plus the payload at the slower end's bandwidth) and to return the answer (half the round trip).</summary>
    private static (double Send, double Back) Network(SimHost from, SimHost to, long payloadBytes)
    {
        if (ReferenceEquals(from, to))
        {
            return (0, 0);
        }

        double rtt = (from.Node.Link.RttMilliseconds + to.Node.Link.RttMilliseconds) / 2 / MillisecondsPerSecond;
        double bandwidth = Math.Min(from.Node.Link.BandwidthMegabitsPerSecond, to.Node.Link.BandwidthMegabitsPerSecond) * BitsPerMegabit;
        return ((rtt / 2) + (payloadBytes * BitsPerByte / bandwidth), rtt / 2);
    }

    private static double ApiSeconds(SimHost router, SimulatedApi api, SimRequest r) =>
        (router.Node.Link.RttMilliseconds / MillisecondsPerSecond)
        + (r.PayloadBytes * BitsPerByte / (router.Node.Link.BandwidthMegabitsPerSecond * BitsPerMegabit))
        + api.LatencySeconds + (r.PromptTokens / api.PrefillTokensPerSecond) + (r.OutputTokens / api.DecodeTokensPerSecond);

    /// <summary>A floor violation as the truth and the router saw it: the charge and source of the node, and the router's reading of them.</summary>
    private FloorViolation Violation(SimHost router, SimRequest r, SimHost node)
    {
        DateTimeOffset now = _time.GetUtcNow();
        MeshNode? seen = router.View.Nodes.FirstOrDefault(n => string.Equals(n.NodeId, node.Id, StringComparison.Ordinal));
        Reading<double> percent = seen?.Factors.Power.BatteryPercent ?? default;
        Reading<PowerSource> source = seen?.Factors.Power.Source ?? default;
        return new FloorViolation
        {
            TimeSeconds = Round(Now),
            Router = router.Id,
            Node = node.Id,
            Urgency = r.Urgency.ToString().ToLowerInvariant(),
            TruePercent = Round(node.Node.BatteryPercent),
            SeenPercent = percent.TryGetValue(out double p) ? Round(p) : null,
            SeenAgeSeconds = percent.HasValue && percent.AgeAt(now) is { } age ? Round(age.TotalSeconds) : null,
            SeenSource = seen is null ? null : source.TryGetValue(out PowerSource ps) ? ps.ToString() : source.Quality.ToString(),
        };
    }

    /// <summary>Decision-time measurements: floor violations, flaps, burst shares, the decision log.</summary>
    private void Account(SimHost router, SimRequest r, string target)
    {
        bool nonInteractive = r.Urgency != Urgency.Interactive;
        _decisions.Add((Now, target, nonInteractive));
        SimHost? node = _byId.GetValueOrDefault(target);
        if (node is not null && nonInteractive && node.Node.BelowFloor(_floor)
            && AllTargets(router).Any(t => t.Id != target && Qualifies(router, t, r)))
        {
            _violations++;
            _firstViolation ??= Violation(router, r, node);
        }

        if (r.AffinityKey is { } key)
        {
            if (!_conversationsRouted.Add(key))
            {
                _followUps++;
                // A flap moves the conversation off the node whose KV cache holds its history while
                // that node still qualified; leaving an API (it keeps no cache) or a node whose cache
                // the history outgrew costs nothing that staying would have saved.
                if (r.CachedOn is { } holder && !string.Equals(holder, target, StringComparison.Ordinal) && Qualifies(router, Find(holder), r))
                {
                    _flaps++;

                    // Judged by the truth at this instant: the oracle, asked now, leaves the holder too.
                    if (!string.Equals(OraclePolicy.TrueCheapest(this, router, r), holder, StringComparison.Ordinal))
                    {
                        _justifiedFlaps++;
                    }
                }
            }
        }

        if (r.Burst >= 0 && node is not null)
        {
            if (!_burstCounts.TryGetValue(r.Burst, out Dictionary<string, int>? counts))
            {
                counts = new Dictionary<string, int>(StringComparer.Ordinal);
                _burstCounts.Add(r.Burst, counts);
                _burstLiveNodes[r.Burst] = _hosts.Count(h => h.Node.Model is not null && !h.Node.IsDown);
            }

            counts[target] = counts.GetValueOrDefault(target) + 1;
        }
    }

    private Target Find(string id) => _apis.TryGetValue(id, out SimulatedApi? api) ? new Target(id, null, api, null) : new Target(id, _byId[id], null, null);

    /// <summary>True when the target could serve the request well now: reachable, up, not failing, not on battery at its floor (for non-interactive work).</summary>
    private bool Qualifies(SimHost router, Target t, SimRequest r)
    {
        // The truth about the model and the request's class (quality floor, price cap, metered
        // exclusion), as the oracle sees it: a node below the request's quality floor never qualifies.
        if (!Policy.Fits(Scenario, router, t, r, truth: true))
        {
            return false;
        }

        if (t.Api is not null)
        {
            return true;
        }

        NodeModel n = t.Node!.Node;
        return !n.IsDown && n.Fault != NodeFault.FailFast && CanReach(router.Id, t.Id)
            && !(r.Urgency != Urgency.Interactive && n.BelowFloor(_floor));
    }

    /// <summary>Predicted / actual latency over the completed requests the router predicted (<see cref="LatencyPredictions"/>); null when none was predicted.</summary>
    internal static LatencyPredictions? Predictions(IEnumerable<SimRequest> requests)
    {
        double[] ratios = [.. requests
            .Where(r => r.Done && r.Succeeded && r.LatencySeconds > 0 && double.IsFinite(r.PredictedSeconds))
            .Select(r => r.PredictedSeconds / r.LatencySeconds)
            .Order()];
        if (ratios.Length == 0)
        {
            return null;
        }

        return new LatencyPredictions
        {
            Requests = ratios.Length,
            Median = Round(NearestRank(ratios, 0.5)),
            P10 = Round(NearestRank(ratios, 0.1)),
            P90 = Round(NearestRank(ratios, 0.9)),
        };
    }

    /// <summary>The <paramref name="p"/> percentile of <paramref name="sorted"/> by nearest rank; 0 for none.</summary>
    private static double NearestRank(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private SimulationResult Measure()
    {
        var latencies = _requests.Where(r => r.Done && r.Succeeded).Select(r => r.LatencySeconds).Order().ToArray();
        int completed = latencies.Length;
        double Percentile(double p) => NearestRank(latencies, p);
        double? burstShare = null;
        foreach ((int burst, Dictionary<string, int> counts) in _burstCounts)
        {
            int total = counts.Values.Sum();
            int live = Math.Max(1, _burstLiveNodes[burst]);
            double fair = (double)total / live;
            double share = counts.Values.Max() / fair;
            burstShare = Math.Max(burstShare ?? 0, share);
        }

        var metrics = new SimulationMetrics
        {
            P50LatencySeconds = Round(Percentile(0.50)),
            P95LatencySeconds = Round(Percentile(0.95)),
            P99LatencySeconds = Round(Percentile(0.99)),
            MeanLatencySeconds = Round(completed == 0 ? 0 : latencies.Average()),
            Requests = _requests.Count,
            CompletedRequests = completed,
            FailedRequests = _requests.Count - completed,
            BatteryWattHoursDrained = Round(_hosts.Sum(h => h.Node.DrainedWattHours)),
            BatteryFloorViolations = _violations,
            FirstFloorViolation = _firstViolation,
            ApiDollars = Round(_apiDollars),
            MaxRouterApiDollars = Round(_hosts.Count == 0 ? 0 : _hosts.Max(h => h.ApiDollars)),
            MeteredGigabytes = Round(_meteredBytes / BytesPerGigabyte),
            RouteFlaps = _flaps,
            AffinityFollowUps = _followUps,
            JustifiedRouteFlaps = _justifiedFlaps,
            MaxBurstShare = burstShare is { } b ? Round(b) : null,
            UnplugReactionSeconds = UnplugReaction(),
            ApiRequests = _apiRequests,
            Predictions = Predictions(_requests),
            Gossip = GossipSummaryOf(_hosts),
        };
        metrics = OneCurrency.Price(metrics, Scenario, _hosts, _requests, _policy);

        var buckets = new List<DecisionBucket>();
        foreach (var group in _decisions.GroupBy(d => (Bucket: Math.Floor(d.Time / MeshSimulator.DecisionBucketSeconds), d.Target)).OrderBy(g => g.Key.Bucket).ThenBy(g => g.Key.Target, StringComparer.Ordinal))
        {
            buckets.Add(new DecisionBucket(group.Key.Bucket * MeshSimulator.DecisionBucketSeconds, group.Key.Target, group.Count()));
        }

        return new SimulationResult
        {
            Scenario = Scenario.Name,
            Policy = PolicyId,
            Seed = Seed,
            Metrics = metrics,
            Requests = [.. _requests.Select(r => new RequestRecord
            {
                ArrivalSeconds = Round(r.DrawnSeconds),
                SentSeconds = Round(r.ArrivalSeconds),
                Router = r.Router,
                Target = r.Target,
                AffinityKey = r.AffinityKey,
                Urgency = r.Urgency.ToString().ToLowerInvariant(),
                Model = r.Model,
                InputTokens = r.InputTokens,
                HistoryTokens = r.HistoryTokens,
                OutputTokens = r.OutputTokens,
                Succeeded = r.Succeeded,
                LatencySeconds = Round(r.LatencySeconds),
                Burst = r.Burst >= 0 ? r.Burst : null,
            })],
            Battery = _battery,
            Decisions = buckets,
        };
    }

    /// <summary>
    /// For each unplug: the node's share of non-interactive decisions in the 30 s before; then,
    /// in buckets after the unplug, the end of the last bucket whose share is still at least half
    /// of that (from then on it stays below). Null when it never settles below, or had no share.
    /// </summary>
    private double? UnplugReaction()
    {
        double? worst = null;
        double bucket = MeshSimulator.DecisionBucketSeconds;
        foreach (ScenarioEvent e in Scenario.Events.Where(e => e.Kind == ScenarioEventKind.Unplug))
        {
            double t0 = e.AtSeconds;
            var before = _decisions.Where(d => d.NonInteractive && d.Time >= t0 - ReactionBaselineSeconds && d.Time < t0).ToList();
            if (before.Count == 0)
            {
                continue;
            }

            double share = (double)before.Count(d => d.Target == e.Node) / before.Count;
            if (share <= 0)
            {
                continue;
            }

            double settled = t0;
            bool lastBucketHigh = false;
            for (double s = t0; s < Scenario.DurationSeconds; s += bucket)
            {
                var window = _decisions.Where(d => d.NonInteractive && d.Time >= s && d.Time < s + bucket).ToList();
                lastBucketHigh = window.Count > 0 && (double)window.Count(d => d.Target == e.Node) / window.Count >= share / 2;
                if (lastBucketHigh)
                {
                    settled = Math.Min(s + bucket, Scenario.DurationSeconds);
                }
            }

            if (lastBucketHigh || settled >= Scenario.DurationSeconds)
            {
                return null;
            }

            worst = Math.Max(worst ?? 0, settled - t0);
        }

        return worst is { } w ? Round(w) : null;
    }

    private static double Round(double v) => Math.Round(v, 6);

    private enum EventKind
    {
        Gossip,
        Sample,
        Arrival,
        Reach,
        ServiceEnd,
        Complete,
        Scenario,
    }

    private readonly record struct SimEvent(EventKind Kind, SimRequest? Request = null, bool Success = false, ScenarioEvent? Scenario = null);
}

/// <summary>What a conversation's client knows between turns: how long its history is and which node's KV cache holds it.</summary>
internal sealed class Conversation
{
    /// <summary>Tokens of the earlier turns the next prompt carries.</summary>
    public int HistoryTokens { get; set; }

    /// <summary>The node that served the last turn and still holds the history in its KV cache; null for none.</summary>
    public string? CachedOn { get; set; }

    /// <summary>True while a turn is unanswered.</summary>
    public bool Answering { get; set; }

    /// <summary>Turns drawn while one was unanswered, sent one at a time as answers arrive.</summary>
    public Queue<SimRequest> Next { get; } = new();
}
