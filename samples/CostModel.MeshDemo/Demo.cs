using System.Globalization;
using System.Net.Sockets;
using CostModel.DependencyInjection;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Mesh;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.MeshDemo;

/// <summary>Starts the mesh, runs the script and the request stream, and prints the summary.</summary>
internal static class Demo
{
    /// <summary>100 ms per frame: events, the battery drain and the view are checked this often; requests go out on their own schedule.</summary>
    private static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(100);

    /// <summary>10 s for the peers to join: on 127.0.0.1 they join in well under a second.</summary>
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Simulated work runs 10x faster than its simulated latency (a 7-second job holds its lease for
    /// 0.7 s), so in-flight work overlaps a little, as on a real mesh at this rate, without piling up.
    /// </summary>
    private const double LeaseTimeScale = 0.1;

    /// <summary>±10 % jitter on the simulated latency of each request.</summary>
    private const double LatencyJitter = 0.1;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(DemoArguments arguments, TextWriter output, TimeProvider time, CancellationToken cancellationToken)
    {
        var scenario = new Scenario();
        string[] phases = [.. scenario.Phases];
        var report = new Report(output, phases);
        var random = new Random(arguments.Seed);
        // One key for this run, shared by the four nodes in this process: gossip is sealed
        // (AES-256-GCM) as it must be on a real network, and the key dies with the run.
        string key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        void Shared(ICostModelBuilder node) => node
            .Configure<RoutingOptions>(r => r.ApiEndpoints = [Scenario.Api])
            .Configure<GossipOptions>(g => g.Keys = [key]);

        // This machine is the seed; each simulated peer joins through it.
        var nodes = new List<DemoNode>();
        try
        {
            DemoNode self = await DemoNode.StartAsync(Scenario.ThisMachine, Scenario.ThisMachineModel, null, null, Shared, new SeededRandomSource(arguments.Seed), cancellationToken).ConfigureAwait(false);
            nodes.Add(self);
            foreach ((string id, ServedModel model) in Scenario.PeerModels)
            {
                nodes.Add(await DemoNode.StartAsync(id, model, scenario.Machines[id], self.EndPoint, Shared, null, cancellationToken).ConfigureAwait(false));
            }

            long joining = time.GetTimestamp();
            if (!await JoinedAsync(self, time, cancellationToken).ConfigureAwait(false))
            {
                report.Line(cancellationToken.IsCancellationRequested ? "stopped before the mesh joined" : string.Create(Invariant, $"the peers did not join within {JoinTimeout.TotalSeconds:0} s: is UDP on 127.0.0.1 blocked?"));
                return cancellationToken.IsCancellationRequested ? 0 : 1;
            }

            TimeSpan joined = time.GetElapsedTime(joining);
            Introduce(report, arguments, nodes, self);
            report.Line(string.Create(Invariant, $"joined: {self.NodeId} heard from {string.Join(", ", Scenario.PeerModels.Keys)} over UDP {joined.TotalSeconds:0.0} s after they started"));
            report.Line("");
            TimeSpan elapsed = await RunScriptAsync(arguments, scenario, self, report, random, time, cancellationToken).ConfigureAwait(false);
            report.Summary(elapsed);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            report.Line("stopped while the mesh was starting");
            return 0;
        }
        catch (SocketException ex)
        {
            report.Line($"cannot gossip on 127.0.0.1: {ex.Message}");
            return 1;
        }
        finally
        {
            for (int i = nodes.Count - 1; i >= 0; i--)
            {
                await nodes[i].DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<TimeSpan> RunScriptAsync(DemoArguments arguments, Scenario scenario, DemoNode self, Report report, Random random, TimeProvider time, CancellationToken cancellationToken)
    {
        var explanation = new RouteExplanation();
        var pending = new List<(Expectation Expectation, string Event, TimeSpan EventAt)>();
        using var leases = new CancellationTokenSource();
        var running = new List<Task>();
        TimeSpan duration = arguments.Duration;
        TimeSpan requestInterval = TimeSpan.FromSeconds(1 / arguments.Rate);
        TimeSpan nextRequest = TimeSpan.Zero;
        TimeSpan last = TimeSpan.Zero;
        int cycle = 0;
        int nextEvent = 0;
        long start = time.GetTimestamp();
        using var frames = new PeriodicTimer(Frame, time);
        try
        {
            do
            {
                TimeSpan elapsed = time.GetElapsedTime(start);
                if (!arguments.Forever && elapsed >= duration)
                {
                    report.PhaseTime(nextEvent, duration - last);
                    return duration;
                }

                report.PhaseTime(nextEvent, elapsed - last);
                last = elapsed;

                // A new cycle of the script (with --forever): back to the start.
                int now = (int)(elapsed / duration);
                if (now != cycle)
                {
                    cycle = now;
                    nextEvent = 0;
                    pending.Clear();
                    scenario.Reset();
                    report.Event(elapsed, string.Create(Invariant, $"the script starts again (cycle {cycle + 1}): laptop plugged in, desktop cool, gpu-box busy"));
                }

                double share = (elapsed - (cycle * duration)) / duration;
                while (nextEvent < scenario.Events.Count && share >= scenario.Events[nextEvent].At)
                {
                    ScriptEvent e = scenario.Events[nextEvent++];
                    e.Apply();
                    report.Event(elapsed, e.Banner);
                    pending.AddRange(e.Expectations.Select(x => (x, e.Phase, elapsed)));
                }

                scenario.Advance(share);
                Watch(self, pending, report, elapsed);

                while (elapsed >= nextRequest)
                {
                    Route(self, scenario, report, random, explanation, elapsed, nextEvent, time, running, leases.Token);
                    nextRequest += requestInterval;
                }

                running.RemoveAll(t => t.IsCompleted);
            }
            while (await frames.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            report.Line("");
            report.Line("stopped (Ctrl+C)");
        }
        finally
        {
            // Work still "running" ends now; its leases are released without an outcome.
            await leases.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(running).ConfigureAwait(false);
        }

        return time.GetElapsedTime(start);
    }

    /// <summary>Routes one request on this machine's router, prints it, and simulates its run on the target.</summary>
    private static void Route(DemoNode self, Scenario scenario, Report report, Random random, RouteExplanation explanation, TimeSpan at, int phase, TimeProvider time, List<Task> running, CancellationToken leases)
    {
        bool isJob = random.NextDouble() < Scenario.JobShare;
        string label = isJob ? "job" : Scenario.Conversations[random.Next(Scenario.Conversations.Length)];
        RequestProfile request = isJob ? Scenario.Job : Scenario.Turn(label);
        RouteDecision decision = self.Router.Route(request, explanation);
        report.Decision(at, phase, label, isJob, decision, explanation);
        if (!decision.HasTarget)
        {
            return;
        }

        // A plausible latency: the network, then prefill and decode at the target's speed, slowed
        // by its throttling, with some jitter. Queueing is not simulated: the requests do not
        // really run, so none wait.
        string target = decision.TargetId!;
        SimulatedMachine? machine = scenario.Machines.GetValueOrDefault(target);
        (double prefill, double decode) = Speeds(target);
        double throttle = machine?.Conditions.ThrottleRatio ?? 0;
        double service = ((request.InputTokens / prefill) + (request.OutputTokens / decode)) / (1 - throttle);
        double latency = (decision.Cost.NetworkLatencySeconds + service) * (1 + (LatencyJitter * ((2 * random.NextDouble()) - 1)));
        var outcome = new RouteOutcome(Succeeded: true, LatencySeconds: latency, OutputTokens: request.OutputTokens);
        RouteLease lease = decision.Lease;
        machine?.Started();
        running.Add(CompleteAsync());

        async Task CompleteAsync()
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(latency * LeaseTimeScale), time, leases).ConfigureAwait(false);
                lease.Complete(outcome);
            }
            catch (OperationCanceledException)
            {
                lease.Dispose();
            }
            finally
            {
                machine?.Finished();
            }
        }
    }

    private static (double Prefill, double Decode) Speeds(string target)
    {
        if (Scenario.ModelOf(target) is { } model)
        {
            return (model.PrefillTokensPerSecond!.Value, model.DecodeTokensPerSecond!.Value);
        }

        // The API and this machine run at the library's priors.
        return target == Scenario.ApiId
            ? (Scenario.Api.PrefillTokensPerSecond, Scenario.Api.DecodeTokensPerSecond)
            : (ScoringDefaults.PrefillTokensPerSecondPrior, ScoringDefaults.DecodeTokensPerSecondPrior);
    }

    /// <summary>Prints each expected change once this machine's view shows it: gossip carried it.</summary>
    private static void Watch(DemoNode self, List<(Expectation Expectation, string Event, TimeSpan EventAt)> pending, Report report, TimeSpan elapsed)
    {
        for (int i = 0; i < pending.Count; i++)
        {
            (Expectation expectation, string name, TimeSpan eventAt) = pending[i];
            if (self.Find(expectation.NodeId) is { } node && expectation.Seen(node))
            {
                report.View(elapsed, self.NodeId, expectation.Describe(node), name, elapsed - eventAt);
                pending.RemoveAt(i--);
            }
        }
    }

    private static async Task<bool> JoinedAsync(DemoNode self, TimeProvider time, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(JoinTimeout);
        using var poll = new PeriodicTimer(Frame, time);
        try
        {
            while (!self.View.Nodes.Any(n => n.IsLocal) || !Scenario.PeerModels.Keys.All(id => self.Find(id) is { Liveness: NodeLiveness.Alive }))
            {
                await poll.WaitForNextTickAsync(limit.Token).ConfigureAwait(false);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static void Introduce(Report report, DemoArguments arguments, List<DemoNode> nodes, DemoNode self)
    {
        string length = arguments.Forever
            ? string.Create(Invariant, $"a script of {arguments.Duration.TotalSeconds:0} s, looping until Ctrl+C")
            : string.Create(Invariant, $"{arguments.Duration.TotalSeconds:0} s");
        report.Line(string.Create(Invariant, $"CostModel mesh demo: {nodes.Count} nodes gossip over UDP on 127.0.0.1; {self.NodeId} routes {arguments.Rate:0.#} requests a second for {length} (seed {arguments.Seed})"));
        report.Line("gossip: sealed with AES-256-GCM under a key made for this run; each node proves its peers by challenge before believing them");
        report.Line("");
        report.Line("node           address          speed      conditions");
        foreach (DemoNode node in nodes)
        {
            string address = node.EndPoint.ToString();
            if (node.Machine is { } machine)
            {
                ServedModel model = Scenario.PeerModels[node.NodeId];
                report.Line(string.Create(Invariant, $"{node.NodeId,-13}  {address,-15}  {model.DecodeTokensPerSecond,3:0} tok/s  simulated: {Describe(machine.Conditions)}"));
            }
            else
            {
                report.Line(string.Create(Invariant, $"{node.NodeId,-13}  {address,-15}  unknown    this computer, real probes: {DescribeReal(self)}"));
            }
        }

        PriceLookup price = self.Services.GetRequiredService<IPriceCatalog>().Lookup(Scenario.ApiPriceModel);
        string priced = price.Price is { } p
            ? string.Create(Invariant, $"${p.InputDollarsPerMillionTokens:0.00} in, ${p.OutputDollarsPerMillionTokens:0.00} out per million tokens ({price.Status}, price table of {self.Services.GetRequiredService<IPriceCatalog>().Current.AsOf:yyyy-MM-dd})")
            : "no price known: excluded";
        report.Line(string.Create(Invariant, $"{Scenario.ApiId,-13}  {"paid API",-15}  {Scenario.Api.DecodeTokensPerSecond,3:0} tok/s  {priced}"));
        report.Line("");
        report.Line(string.Create(Invariant, $"requests for \"{Scenario.Model}\": {Scenario.JobShare:P0} jobs (background, {Scenario.Job.InputTokens} in, {Scenario.Job.OutputTokens} out), the rest turns of {string.Join(" and ", Scenario.Conversations)} (normal, 300 in, 120 out, sticky)"));
        report.Line("each line: time, request, -> target, total cost, predicted latency, largest money term, notes, runner-up");
    }

    private static string Describe(Conditions c)
    {
        string power = c.BatteryPercent is { } percent
            ? string.Create(Invariant, $"{(c.Source == PowerSource.Battery ? "on battery" : "plugged in")}, {c.Charge.ToString().ToLowerInvariant()} at {percent:0} %")
            : "mains";
        string gpu = c.Gpu is { } g ? string.Create(Invariant, $", {g.Name} at {g.Utilization:P0} (a training job)") : "";
        return string.Create(Invariant, $"{power}{gpu}, {c.HottestCelsius:0} °C");
    }

    private static string DescribeReal(DemoNode self)
    {
        NodeCostFactors? f = self.View.Nodes.FirstOrDefault(n => n.IsLocal)?.Factors;
        if (f is null)
        {
            return "no snapshot yet";
        }

        static string Show<T>(Reading<T> r, Func<T, string> format)
            where T : struct => r.TryGetValue(out T value) ? format(value) : r.Quality.ToString();
        return string.Join(", ",
            $"power {Show(f.Power.Source, s => s.ToString())}",
            $"battery {Show(f.Power.BatteryPercent, p => p.ToString("0' %'", Invariant))}",
            $"thermal {Show(f.Thermal.Level, l => l.ToString())}",
            $"GPUs {Show(f.Gpu.DeviceCount, n => n.ToString(Invariant))}",
            $"CPU {Show(f.Compute.CpuUtilization, u => u.ToString("P0", Invariant))}");
    }
}
