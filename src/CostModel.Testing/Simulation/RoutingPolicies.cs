using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Testing.Simulation;

/// <summary>The routing policies the simulator compares (definitions and sources in <c>docs/simulation.md</c>).</summary>
public static class RoutingPolicies
{
    /// <summary>The library's default router (<see cref="IRouter"/>), through DI with the scenario's options.</summary>
    public const string CostModel = "costmodel";

    /// <summary>Round robin over the router's live candidates.</summary>
    public const string RoundRobin = "round-robin";

    /// <summary>Uniformly random among the router's live candidates.</summary>
    public const string Random = "random";

    /// <summary>Fewest requests in flight from this router (YARP's LeastRequests), ties by order.</summary>
    public const string LeastInFlight = "least-in-flight";

    /// <summary>Power of two choices on this router's in-flight counts (YARP's default).</summary>
    public const string PowerOfTwoChoices = "p2c";

    /// <summary>A reconstruction of the original design: greedy minimum of latency times bare multipliers, no hysteresis, no pending work.</summary>
    public const string GreedyOriginal = "greedy-original";

    /// <summary>LiteLLM's lowest-latency routing: the lowest EWMA of observed seconds per output token, untried first.</summary>
    public const string LiteLlmLatency = "litellm-latency";

    /// <summary>LiteLLM's lowest-cost routing: the cheapest price per token (local models are free), ties by order.</summary>
    public const string LiteLlmCost = "litellm-cost";

    /// <summary>Perfect, instant knowledge of the true simulator state: the target with the lowest true cost now (a bound).</summary>
    public const string Oracle = "oracle";

    /// <summary>Every policy id, the library's first.</summary>
    public static IReadOnlyList<string> Ids { get; } = [CostModel, RoundRobin, Random, LeastInFlight, PowerOfTwoChoices, GreedyOriginal, LiteLlmLatency, LiteLlmCost, Oracle];
}

/// <summary>A target a policy may choose: a mesh node or an API endpoint.</summary>
internal readonly record struct Target(string Id, SimHost? Node, SimulatedApi? Api, MeshNode? Seen);

/// <summary>A routing policy. One instance per run; its per-router state lives on <see cref="SimHost"/>.</summary>
internal abstract class Policy
{
    // EWMA weight of a new latency sample for litellm-latency: 2 / (N + 1) with N = 9, the same
    // memory as an average of the last nine or so samples (LiteLLM averages a recent window).
    protected const double LatencyEwmaWeight = 0.2;

    // LiteLLM records a failed call as a very slow one (its lowest-latency strategy stores 1000 s for
    // timeouts), so a failing deployment sinks to the bottom; per output token here.
    protected const double FailurePenaltySecondsPerToken = 1_000;

    public static Policy Create(string id) => id switch
    {
        RoutingPolicies.CostModel => new CostModelPolicy(),
        RoutingPolicies.RoundRobin => new RoundRobinPolicy(),
        RoutingPolicies.Random => new RandomPolicy(),
        RoutingPolicies.LeastInFlight => new LeastInFlightPolicy(),
        RoutingPolicies.PowerOfTwoChoices => new PowerOfTwoPolicy(),
        RoutingPolicies.GreedyOriginal => new GreedyOriginalPolicy(),
        RoutingPolicies.LiteLlmLatency => new LiteLlmLatencyPolicy(),
        RoutingPolicies.LiteLlmCost => new LiteLlmCostPolicy(),
        RoutingPolicies.Oracle => new OraclePolicy(),
        _ => throw new ArgumentException($"Unknown policy '{id}'; known: {string.Join(", ", RoutingPolicies.Ids)}.", nameof(id)),
    };

    /// <summary>Chooses a target id for the request, or null when there is none.</summary>
    public abstract string? Choose(SimulationRun run, SimHost router, SimRequest request);

    /// <summary>Told when a request this policy routed ends.</summary>
    public virtual void OnOutcome(SimHost router, SimRequest request, double latencySeconds)
    {
    }

    protected static int InFlight(SimHost router, string target) => router.InFlight.GetValueOrDefault(target);

    /// <summary>The share of decisions that carried each assumption; null for a policy without explanations.</summary>
    public virtual AssumptionShares? AssumptionShares() => null;

    /// <summary>The decisions against the truth's cheapest at the instant of each (<see cref="DecisionsAgainstTruth"/>); null for a policy not compared.</summary>
    public virtual DecisionsAgainstTruth? AgainstTruth() => null;

    /// <summary>
    /// The router's live candidates that serve the request's model and meet its hard constraints as
    /// the router can see them (advertised size, reported metered links, listed API prices): what
    /// a deployment of any baseline is configured to offer such a request.
    /// </summary>
    protected static List<Target> Eligible(SimulationRun run, SimHost router, SimRequest request)
    {
        List<Target> all = run.Candidates(router);
        all.RemoveAll(t => !Fits(run.Scenario, router, t, request, truth: false));
        return all;
    }

    /// <summary>True when the target serves the request's model and meets its class's constraints (seen by the router, or the truth for the oracle).</summary>
    internal static bool Fits(Scenario scenario, SimHost router, Target t, SimRequest request, bool truth)
    {
        RequestClass? c = request.Class;
        if (t.Api is { } api)
        {
            if (!string.Equals(api.ModelIn(scenario), request.Model, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            if (c is null)
            {
                return true;
            }

            double dollars = api.DollarsFor(request);
            return Quality(c, api.ParameterBillions, api.QuantizationBits)
                && !(c.ExcludeMetered && router.Node.Link.Metered)
                && !(c.MaxDollarsPerRequest is { } max && dollars > max);
        }

        if (truth || t.Seen is null)
        {
            SimulatedModel? m = t.Node!.Node.Find(request.Model);
            return m is not null && (c is null || (Quality(c, m.ParameterBillions, m.QuantizationBits)
                && !(c.ExcludeMetered && !ReferenceEquals(t.Node, router) && (t.Node.Node.Link.Metered || router.Node.Link.Metered))));
        }

        ServedModel? seen = t.Seen.Capabilities.Models.FirstOrDefault(x => string.Equals(x.ModelId, request.Model, StringComparison.OrdinalIgnoreCase));
        if (seen is null)
        {
            return false;
        }

        if (c is null)
        {
            return true;
        }

        NetworkFactors net = t.Seen.Factors.Network;
        bool metered = !t.Seen.IsLocal && ((net.Metered.HasValue && net.Metered.RawValue) || router.Node.Link.Metered);
        return Quality(c, seen.ParameterBillions, seen.QuantizationBits) && !(c.ExcludeMetered && metered);
    }

    private static bool Quality(RequestClass c, double? parameterBillions, double? bits) =>
        !(c.MinParameterBillions is { } minSize && !(parameterBillions >= minSize))
        && !(c.MinQuantizationBits is { } minBits && !(bits >= minBits));
}

/// <summary>The library's router, called as a host calls it; the lease is completed when the request ends.</summary>
internal sealed class CostModelPolicy : Policy
{
    private readonly RouteExplanation _explanation = new();
    private readonly TruthComparison _truth = new();
    private int _decisions;
    private int _stale;
    private int _unknownLoad;
    private int _bandwidthPrior;
    private int _priceUnknown;
    private int _other;

    // Decisions that carried each assumption, by the flag's bit (CostAssumptions is a [Flags] int enum).
    private readonly int[] _byAssumption = new int[32];

    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        RequestClass? c = request.Class;
        var profile = new RequestProfile(request.Model)
        {
            InputTokens = request.PromptTokens,
            CachedPromptTokens = request.CachedTokens,
            OutputTokens = request.OutputTokens,
            PayloadBytes = request.PayloadBytes,
            Urgency = request.Urgency,
            AffinityKey = request.AffinityKey,
            MinParameterBillions = c?.MinParameterBillions,
            MinQuantizationBits = c?.MinQuantizationBits,
            MaxDollarsPerRequest = c?.MaxDollarsPerRequest,
            ExcludeMetered = c?.ExcludeMetered ?? false,
        };
        RouteDecision decision = router.Router.Route(profile, _explanation);
        Tally();
        if (!decision.HasTarget)
        {
            decision.Lease.Dispose();
            return null;
        }

        request.Lease = decision.Lease;
        request.HasLease = true;
        foreach (CandidateExplanation candidate in _explanation.Candidates)
        {
            if (candidate.FilteredBy is null && string.Equals(candidate.TargetId, decision.TargetId, StringComparison.Ordinal))
            {
                request.PredictedSeconds = candidate.Cost.LatencySeconds;
                break;
            }
        }

        _truth.Compare(run, router, request, decision, _explanation);
        return decision.TargetId;
    }

    public override DecisionsAgainstTruth? AgainstTruth() => _truth.Result();

    public override AssumptionShares? AssumptionShares()
    {
        double Share(int n) => _decisions == 0 ? 0 : Math.Round((double)n / _decisions, 6);
        return new AssumptionShares
        {
            Decisions = _decisions,
            Stale = Share(_stale),
            UnknownLoad = Share(_unknownLoad),
            BandwidthPrior = Share(_bandwidthPrior),
            PriceUnknown = Share(_priceUnknown),
            Other = Share(_other),
            ThroughputPrior = Share(Count(CostAssumptions.ThroughputPrior)),
            ThermalUnknown = Share(Count(CostAssumptions.ThermalUnknown)),
            BatteryAtFloor = Share(Count(CostAssumptions.BatteryAtFloor)),
            PowerSourceUnknown = Share(Count(CostAssumptions.PowerSourceUnknown)),
            MeteredUnknown = Share(Count(CostAssumptions.MeteredUnknown)),
            PowerDrawPrior = Share(Count(CostAssumptions.PowerDrawPrior)),
        };
    }

    /// <summary>
    /// Counts what the decision assumed, from its explanation: the assumptions in the costs of the
    /// candidates it compared (an assumption about a candidate it passed over shaped it too), and
    /// the reasons candidates were set aside.
    /// </summary>
    private void Tally()
    {
        _decisions++;
        bool stale = false;
        bool priceUnknown = false;
        CostAssumptions a = CostAssumptions.None;
        foreach (CandidateExplanation candidate in _explanation.Candidates)
        {
            priceUnknown |= candidate.Cost.Exclusion == CostExclusion.UnknownPrice;

            // The liveness filter's soft rejections: suspect (missed heartbeats) or a snapshot past the maximum age.
            stale |= candidate.FilteredBy == RouteFilterNames.Liveness && candidate.Soft;
            if (candidate.FilteredBy is null)
            {
                a |= candidate.Cost.Assumptions;
            }
        }

        _stale += stale ? 1 : 0;
        _priceUnknown += priceUnknown ? 1 : 0;
        _unknownLoad += (a & CostAssumptions.LoadUnknown) != 0 ? 1 : 0;
        _bandwidthPrior += (a & CostAssumptions.BandwidthPrior) != 0 ? 1 : 0;
        _other += (a & ~(CostAssumptions.LoadUnknown | CostAssumptions.BandwidthPrior)) != 0 ? 1 : 0;
        for (int bit = 0; bit < _byAssumption.Length; bit++)
        {
            _byAssumption[bit] += (int)(((uint)a >> bit) & 1);
        }
    }

    private int Count(CostAssumptions flag) => _byAssumption[System.Numerics.BitOperations.Log2((uint)flag)];
}

internal sealed class RoundRobinPolicy : Policy
{
    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        List<Target> c = Eligible(run, router, request);
        if (c.Count == 0)
        {
            return null;
        }

        int i = router.NextRoundRobin++ % c.Count;
        return c[i].Id;
    }
}

internal sealed class RandomPolicy : Policy
{
    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        List<Target> c = Eligible(run, router, request);
        return c.Count == 0 ? null : c[router.Random.Next(c.Count)].Id;
    }
}

internal sealed class LeastInFlightPolicy : Policy
{
    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        List<Target> c = Eligible(run, router, request);
        string? best = null;
        int bestCount = int.MaxValue;
        foreach (Target t in c)
        {
            int n = InFlight(router, t.Id);
            if (n < bestCount)
            {
                best = t.Id;
                bestCount = n;
            }
        }

        return best;
    }
}

internal sealed class PowerOfTwoPolicy : Policy
{
    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        List<Target> c = Eligible(run, router, request);
        if (c.Count <= 1)
        {
            return c.Count == 0 ? null : c[0].Id;
        }

        int a = router.Random.Next(c.Count);
        int b = router.Random.Next(c.Count - 1);
        if (b >= a)
        {
            b++;
        }

        return InFlight(router, c[b].Id) < InFlight(router, c[a].Id) ? c[b].Id : c[a].Id;
    }
}

/// <summary>
/// The original design, reconstructed plainly: expected latency from advertised speeds and the
/// library's network priors, times 2 on battery, 1.5 on a metered link, (1 + load), 1.5 when
/// throttled; the minimum wins, ties by order. No money, no hysteresis, no pending work.
/// </summary>
internal sealed class GreedyOriginalPolicy : Policy
{
    private const double BatteryMultiplier = 2;
    private const double MeteredMultiplier = 1.5;
    private const double ThrottledMultiplier = 1.5;
    private const double BitsPerByte = 8;

    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        string? best = null;
        double bestScore = double.PositiveInfinity;
        foreach (Target t in Eligible(run, router, request))
        {
            double score;
            if (t.Api is { } api)
            {
                score = api.LatencySeconds + (request.PromptTokens / api.PrefillTokensPerSecond) + (request.OutputTokens / api.DecodeTokensPerSecond);
            }
            else
            {
                ServedModel? m = t.Seen!.Capabilities.Models.FirstOrDefault(x => string.Equals(x.ModelId, request.Model, StringComparison.OrdinalIgnoreCase));
                double prefill = m?.PrefillTokensPerSecond ?? router.Scoring.PrefillTokensPerSecondPrior;
                double decode = m?.DecodeTokensPerSecond ?? router.Scoring.DecodeTokensPerSecondPrior;
                double latency = (request.PromptTokens / prefill) + (request.OutputTokens / decode);
                if (!t.Seen.IsLocal)
                {
                    latency += router.Scoring.RttPriorSeconds + (request.PayloadBytes * BitsPerByte / router.Scoring.BandwidthPriorBitsPerSecond);
                }

                NodeCostFactors f = t.Seen.Factors;
                bool battery = f.Power.Source.HasValue && f.Power.Source.RawValue == PowerSource.Battery;
                bool metered = f.Network.Metered.HasValue && f.Network.Metered.RawValue;
                double load = f.Compute.CpuUtilization.HasValue ? f.Compute.CpuUtilization.RawValue : 0;
                bool throttled = f.Thermal.ThrottleRatio.HasValue && f.Thermal.ThrottleRatio.RawValue > 0;
                score = latency * (battery ? BatteryMultiplier : 1) * (metered ? MeteredMultiplier : 1) * (1 + load) * (throttled ? ThrottledMultiplier : 1);
            }

            if (score < bestScore)
            {
                bestScore = score;
                best = t.Id;
            }
        }

        return best;
    }
}

/// <summary>LiteLLM's lowest-latency strategy: untried deployments first (in order), then the lowest EWMA of seconds per output token.</summary>
internal sealed class LiteLlmLatencyPolicy : Policy
{
    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        string? best = null;
        double bestLatency = double.PositiveInfinity;
        foreach (Target t in Eligible(run, router, request))
        {
            if (!router.LatencyPerToken.TryGetValue(t.Id, out double latency))
            {
                return t.Id;
            }

            if (latency < bestLatency)
            {
                bestLatency = latency;
                best = t.Id;
            }
        }

        return best;
    }

    public override void OnOutcome(SimHost router, SimRequest request, double latencySeconds)
    {
        double sample = request.Succeeded ? latencySeconds / Math.Max(1, request.OutputTokens) : FailurePenaltySecondsPerToken;
        string target = request.Target!;
        router.LatencyPerToken[target] = router.LatencyPerToken.TryGetValue(target, out double old)
            ? old + (LatencyEwmaWeight * (sample - old))
            : sample;
    }
}

/// <summary>LiteLLM's lowest-cost strategy: the cheapest input plus output price per token; local models cost 0; ties by order.</summary>
internal sealed class LiteLlmCostPolicy : Policy
{
    public override string? Choose(SimulationRun run, SimHost router, SimRequest request)
    {
        string? best = null;
        double bestPrice = double.PositiveInfinity;
        foreach (Target t in Eligible(run, router, request))
        {
            double price = t.Api is { } api ? api.InputDollarsPerMillionTokens + api.OutputDollarsPerMillionTokens : 0;
            if (price < bestPrice)
            {
                bestPrice = price;
                best = t.Id;
            }
        }

        return best;
    }
}

/// <summary>
/// Perfect knowledge of the true state: for every reachable target that can serve now, the true
/// latency (network, the wait for a slot given every queued request, service at the current
/// throttle) times the request's value of time, plus the true money (API tokens, metered bytes,
/// the energy at its price: electricity on mains, battery wear plus scarcity on battery); nodes
/// at or below the battery floor are left out for non-interactive work when anything else can
/// serve, and APIs past the router's daily cap are left out. A bound, not a deployable policy.
/// </summary>
internal sealed class OraclePolicy : Policy
{
    private const double JoulesPerKilowattHour = 3.6e6;
    private const double HalfChargePercent = 50;

    public override string? Choose(SimulationRun run, SimHost router, SimRequest request) => TrueCheapest(run, router, request);

    /// <summary>
    /// The cheapest target by the truth at this instant, as the oracle picks it; side-effect free,
    /// so the simulator also asks it to judge another policy's decision (a route flap the truth justified).
    /// </summary>
    internal static string? TrueCheapest(SimulationRun run, SimHost router, SimRequest request) =>
        TrueCheapest(run, router, request, out _);

    /// <summary>The cheapest target by the truth at this instant (<see cref="TrueCheapest(SimulationRun, SimHost, SimRequest)"/>) and its true cost, dollars (infinity when none).</summary>
    internal static string? TrueCheapest(SimulationRun run, SimHost router, SimRequest request, out double cost)
    {
        string? best = null;
        double bestCost = double.PositiveInfinity;
        string? fallback = null;
        double fallbackCost = double.PositiveInfinity;
        foreach (Target t in run.AllTargets(router))
        {
            if (!TryTrueCost(run, router, t, request, out double c, out _, out bool belowFloor))
            {
                continue;
            }

            if (belowFloor)
            {
                if (c < fallbackCost)
                {
                    fallbackCost = c;
                    fallback = t.Id;
                }
            }
            else if (c < bestCost)
            {
                bestCost = c;
                best = t.Id;
            }
        }

        cost = best is null ? fallbackCost : bestCost;
        return best ?? fallback;
    }

    /// <summary>
    /// The true cost of sending the request to the target at this instant, dollars, where the truth
    /// allows it (<see cref="TrueCost"/>): false when the target cannot serve it by the truth (another
    /// model, a quality, price or metered constraint of the request broken at the true price, down,
    /// refusing, unreachable, or an API past the router's cap).
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="router">The router deciding.</param>
    /// <param name="t">The target.</param>
    /// <param name="request">The request.</param>
    /// <param name="cost">The true cost, dollars.</param>
    /// <param name="latency">The true latency, seconds.</param>
    /// <param name="belowFloor">True when the target is a node on battery at or below its reserve floor and the request is not interactive (left to the last resort).</param>
    /// <returns>True when the target can serve the request.</returns>
    internal static bool TryTrueCost(SimulationRun run, SimHost router, Target t, SimRequest request, out double cost, out double latency, out bool belowFloor)
    {
        cost = double.PositiveInfinity;
        latency = double.PositiveInfinity;
        belowFloor = false;
        return Fits(run.Scenario, router, t, request, truth: true)
            && TrueCost(run, router, t, request, out cost, out latency, out belowFloor)
            && WithinCap(run, router, t, request);
    }

    /// <summary>
    /// True when the truth would send the request to a target that serves it: its constraints hold at
    /// the true price and an API stays within the router's cap (<see cref="TryTrueCost"/> less the cost).
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="router">The router deciding.</param>
    /// <param name="t">The target.</param>
    /// <param name="request">The request.</param>
    /// <returns>True when allowed.</returns>
    internal static bool Allows(SimulationRun run, SimHost router, Target t, SimRequest request) =>
        Fits(run.Scenario, router, t, request, truth: true) && WithinCap(run, router, t, request);

    private static bool WithinCap(SimulationRun run, SimHost router, Target t, SimRequest request) =>
        !(t.Api is { } api && run.Scenario.ApiDailyBudgetDollars is { } cap && router.ApiDollars + run.ApiDollarsInFlight(router) + api.DollarsFor(request) > cap);

    /// <summary>
    /// The true cost of sending the request to the target at this instant, whatever the request's
    /// constraints and the router's cap, dollars: its true latency at the request's value of time plus
    /// the true money (API tokens, metered bytes, the energy at its price). False when the target fails
    /// now (down, refusing, unreachable).
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="router">The router deciding.</param>
    /// <param name="t">The target.</param>
    /// <param name="request">The request.</param>
    /// <param name="cost">The true cost, dollars.</param>
    /// <param name="latency">The true latency, seconds.</param>
    /// <param name="belowFloor">True when the target is a node on battery at or below its reserve floor and the request is not interactive.</param>
    /// <returns>True when the target would serve the request.</returns>
    internal static bool TrueCost(SimulationRun run, SimHost router, Target t, SimRequest request, out double cost, out double latency, out bool belowFloor)
    {
        cost = double.PositiveInfinity;
        belowFloor = false;
        latency = run.TrueLatency(router, t, request);
        if (double.IsInfinity(latency))
        {
            return false;
        }

        ScoringOptions o = router.Scoring;
        double money;
        if (t.Api is { } api)
        {
            money = api.DollarsFor(request);
            if (router.Node.Link.Metered)
            {
                money += request.PayloadBytes / 1e9 * o.MeteredDollarsPerGigabyte;
            }
        }
        else
        {
            NodeModel n = t.Node!.Node;
            double service = n.ServiceSeconds(request);
            double watts = (n.Power.ActiveWatts - n.Power.IdleWatts) / n.Slots;
            double price = o.ElectricityDollarsPerKilowattHour;
            if (n.HasBattery && !n.PluggedIn)
            {
                double headroom = n.BatteryPercent - o.BatteryReserveFloorPercent;
                double scarcity = headroom <= 0 ? o.MaxBatteryDollarsPerKilowattHour : o.BatteryScarcityDollarsPerKilowattHourAtHalf * (HalfChargePercent - o.BatteryReserveFloorPercent) / headroom;
                price = Math.Min(o.MaxBatteryDollarsPerKilowattHour, o.BatteryWearDollarsPerKilowattHour + scarcity);
                belowFloor = request.Urgency != Urgency.Interactive && headroom <= 0;
            }

            money = watts * service / JoulesPerKilowattHour * price;
            if (!ReferenceEquals(t.Node, router) && (n.Link.Metered || router.Node.Link.Metered))
            {
                money += request.PayloadBytes / 1e9 * o.MeteredDollarsPerGigabyte;
            }
        }

        cost = (latency * o.ValueOfTime(request.Urgency)) + money;
        return true;
    }
}
