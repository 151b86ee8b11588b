using System.Runtime.CompilerServices;
using CostModel.Telemetry;

namespace CostModel.Routing;

/// <summary>
/// Chooses among the priced candidates of one decision: panic when soft filters left nothing, the
/// cheapest admitted candidate, the affinity key's incumbent kept within the hysteresis band (and
/// the break penalty), in a burst a draw from this request's band of its cheapest spread (<see cref="HerdSpread"/>), otherwise a randomised choice among near-equals of the cheapest by power of
/// two choices on in-flight work. Reads the scratch the pricing filled; writes only its work arrays there (Near, FollowUps).
/// </summary>
/// <param name="metrics">The metrics the decisions' notes are counted in.</param>
/// <param name="random">The random source of the draws.</param>
/// <param name="spread">The router's herd estimator, for its usual rate (<see cref="HerdSpread.UsualHerd"/>); null draws only in a surge.</param>
/// <param name="strata">Where the router's herd draws fall (<see cref="HerdStrata"/>: stratified across routers); null draws them at random.</param>
internal sealed class Picker(CostModelMetrics metrics, IRandomSource random, HerdSpread? spread = null, HerdStrata? strata = null)
{
    /// <summary>
    /// The chosen candidate's place in <paramref name="scratch"/>, or -1 when none may take the
    /// request; <paramref name="flags"/> say what the choice did, <paramref name="eligible"/> how many
    /// candidates passed every filter. Counts nothing: the router counts the decision's notes once
    /// (<see cref="Count"/>), however many times a failed spend reservation made it choose.
    /// </summary>
    /// <param name="scratch">The priced candidates.</param>
    /// <param name="incumbentId">The affinity key's incumbent, or null.</param>
    /// <param name="options">The routing options.</param>
    /// <param name="rise">This router's recent arrival rate above its usual one (<see cref="HerdSpread.Arrived(DateTimeOffset)"/>), requests per second.</param>
    /// <param name="work">The request's work (<see cref="HerdSpread.Work"/>): in a large mesh, its weight against the usual one scales the herd.</param>
    /// <param name="flags">What the choice did.</param>
    /// <param name="eligible">How many candidates passed every filter.</param>
    public int Choose(RouteScratch scratch, string? incumbentId, RoutingOptions options, double rise, double work, out RouteNotes flags, out int eligible)
    {
        int count = scratch.Count;
        ReadOnlySpan<byte> verdicts = scratch.Verdicts.AsSpan(0, count);
        eligible = verdicts.Count(Verdict.Eligible);
        flags = RouteNotes.None;
        bool panic = eligible == 0 && verdicts.Contains(Verdict.SoftRejected);
        if (panic)
        {
            flags |= RouteNotes.Panic;
        }

        // The cheapest eligible (or, in panic, soft-rejected) candidate, the first of equals, and
        // those that may be its near-equals.
        byte admit = panic ? Verdict.SoftRejected : Verdict.Eligible;
        int best = PickerScan.Scan(verdicts, scratch.Adjusted, admit, options.SpreadTolerance, options.HysteresisEpsilonDollars, scratch.Near, out scratch.MaybeNear);
        return best >= 0 ? Pick(scratch, best, admit, incumbentId, options, rise, work, ref flags) : -1;
    }

    /// <summary>Counts a decision's notes in the metrics (panic, affinity switched or broken): once per decision.</summary>
    /// <param name="flags">The notes of the decision's last choice.</param>
    public void Count(RouteNotes flags)
    {
        if ((flags & RouteNotes.Panic) != 0)
        {
            metrics.RoutePanic();
        }

        if ((flags & RouteNotes.Switched) != 0)
        {
            metrics.AffinitySwitched();
        }

        if ((flags & RouteNotes.StickinessBroken) != 0)
        {
            metrics.AffinityBroken();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Pick(RouteScratch scratch, int best, byte admit, string? incumbentId, RoutingOptions o, double rise, double work, ref RouteNotes flags)
    {
        byte[] verdicts = scratch.Verdicts;
        double[] adjusted = scratch.Adjusted;
        double cheapest = adjusted[best];
        if (incumbentId is not null)
        {
            int incumbent = -1;
            for (int i = 0; i < scratch.Count; i++)
            {
                if (verdicts[i] <= admit && string.Equals(scratch.StateAt(i).TargetId, incumbentId, StringComparison.Ordinal))
                {
                    incumbent = i;
                    break;
                }
            }

            if (incumbent < 0)
            {
                flags |= RouteNotes.StickinessBroken;
            }
            else if (incumbent == best)
            {
                return best;
            }
            else
            {
                double held = adjusted[incumbent];
                if (cheapest < (held * (1 - o.HysteresisBand)) - o.HysteresisEpsilonDollars)
                {
                    flags |= RouteNotes.Switched;
                    return best;
                }

                // Within the band, but the incumbent costs more than the bound allows (a long request).
                double penalty = held - cheapest;
                if (penalty > o.AffinityBreakPenaltySeconds * scratch.Costs[incumbent].ValueOfTimeDollarsPerSecond)
                {
                    flags |= RouteNotes.StickinessBroken;
                    return best;
                }

                flags |= RouteNotes.StickyKept;
                return incumbent;
            }
        }

        // A burst the others may be placing too: drawn from this request's band of its cheapest spread
        // (HerdSpread: the allocation of the herd with it less that of the herd placed before it). Its work
        // array is the pricing's follow-ups (done with by now), not Near: Near holds the scan's maybe-near list.
        // Outside a surge, a quiet router of a large mesh draws from the allocation of the usual herd
        // (HerdSpread.UsualHerd: a burst's first requests cannot be told from usual traffic), and a busy router
        // among many candidates from the usual herd the other routers report (HerdSpread.BusyHerd); elsewhere it is 0.
        // The herd is the other routers' (IndexedView.Routers: the nodes that route by their reports), not
        // the other candidates': a few gateways routing for many servers are a few routers.
        int routers = scratch.HerdRouters;
        double herd = HerdSpread.Herd(rise, routers);
        double placed = HerdSpread.Placed(rise, routers);
        bool surge = herd >= HerdSpread.MinHerd;
        bool busy = false;
        if (!surge && spread is not null)
        {
            herd = HerdSpread.UsualHerd(spread.UsualRate, routers);
            placed = 0;
            if (herd < HerdSpread.MinHerd && HerdSpread.WeighsAmong(scratch.Count))
            {
                // A busy router among many candidates draws from the usual herd the other routers report.
                herd = HerdSpread.BusyHerd(spread.UsualRate, scratch.OtherRoutedRate);
                busy = herd >= HerdSpread.MinHerd;
            }
        }

        double sizePlace = double.NaN;
        if (herd >= HerdSpread.MinHerd && spread is not null && HerdSpread.WeighsAmong(scratch.Count))
        {
            // Among many candidates, the herd in units of this request's own weight (HerdSpread.Weigh: value of
            // time x work against the usual weight of the requests drawn): a light request reaches further,
            // a heavy one less; and its size placed among the recent ones by work, for its speed tier (a large
            // request to the fast nodes, a small one to the slow). Nothing is weighed without a herd (a busy
            // router's usual decision). A pick made again after a failed spend reservation weighs again (rare;
            // the mean moves a little, the sizes keep the request twice).
            double ratio = spread.Weigh(work * scratch.Costs[best].ValueOfTimeDollarsPerSecond, work, out (double Low, double Width) size);

            // A point of its place drawn at random: equals (every request of one size, at worst) spread over their range.
            sizePlace = size.Low + (size.Width * HerdStrata.RandomQuantile(random));
            herd /= ratio;
            placed /= ratio;
        }

        // Where the draw falls (a busy router's draws counted as a surge's, each at its own quantile, not
        // one quantile a stale window): in a large mesh stratified across the routers (HerdStrata: this router's rank
        // among the routers and an offset every router takes alike; the band laid out by id), elsewhere
        // or without this router's own node in its view at random (NaN).
        double quantile = double.NaN;
        ReadOnlySpan<int> order = default;
        if (herd >= HerdSpread.MinHerd && strata is not null && HerdSpread.IsLargeMesh(routers) && strata.Next(scratch, surge || busy, out double stratified) is { } drawOrder)
        {
            quantile = stratified;
            order = drawOrder.Candidates;
        }

        int drawn = HerdSpread.Draw(verdicts.AsSpan(0, scratch.Count), adjusted, scratch.Costs, admit, best, herd, placed, order, quantile, sizePlace, random, scratch.FollowUps, out int rival, out double share, out double rivalShare);
        if (drawn >= 0)
        {
            flags |= RouteNotes.RandomTieBreak | RouteNotes.HerdDraw;
            return HerdSpread.KeepFirst(scratch.StateAt(drawn).InFlight, share, scratch.StateAt(rival).InFlight, rivalShare) ? drawn : rival;
        }

        // Near-equals: within the tolerance of the cheapest; power of two choices on in-flight work.
        int[] nearby = scratch.Near;
        int near = PickerScan.Near(verdicts.AsSpan(0, scratch.Count), adjusted, admit, cheapest, o.SpreadTolerance, o.HysteresisEpsilonDollars, nearby, scratch.MaybeNear);

        if (near <= 1)
        {
            return best;
        }

        flags |= RouteNotes.RandomTieBreak;
        int a = nearby[random.NextInt(near)];
        int b = nearby[random.NextInt(near - 1)];
        if (b == a)
        {
            b = nearby[near - 1];
        }

        int inFlightA = scratch.StateAt(a).InFlight;
        int inFlightB = scratch.StateAt(b).InFlight;
        return inFlightA != inFlightB ? (inFlightA < inFlightB ? a : b) : (adjusted[a] <= adjusted[b] ? a : b);
    }
}
