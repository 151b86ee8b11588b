using CostModel.Factors;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>Herd draws stratified across routers (HerdStrata): ranks, offsets and the draw order.</summary>
public sealed class HerdStrataTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    private static CostBreakdown Step(double dollars) => new() { QueueStepDollars = dollars };

    // Ten candidates priced 1.00, 1.02, ... rising 0.05 to 0.14 $ a request, and a herd of 40 that
    // reaches all of them: shares from 7.5 down to 0.9 requests.
    private static readonly double[] Totals = [.. Enumerable.Range(0, 10).Select(i => 1.0 + (0.02 * i))];
    private static readonly CostBreakdown[] Costs = [.. Enumerable.Range(0, 10).Select(i => Step(0.05 + (0.01 * i)))];
    private const double Herd = 40;

    /// <summary>What each of <paramref name="routers"/> routers draws first from the allocation of the herd (rank r at quantile <paramref name="quantile"/>(r), NaN for at random).</summary>
    private static int[] Draws(int routers, Func<int, double> quantile, IRandomSource random)
    {
        int[] counts = new int[Totals.Length];
        int[] work = new int[Totals.Length];
        for (int r = 0; r < routers; r++)
        {
            int drawn = HerdSpread.Draw(new byte[Totals.Length], Totals, Costs, 0, 0, Herd, 0, default, quantile(r), double.NaN, random, work, out _, out _, out _);
            counts[drawn]++;
        }

        return counts;
    }

    /// <summary>Each candidate's share of the herd's allocation, as a fraction.</summary>
    private static double[] Shares()
    {
        double level = HerdSpread.Levels(Totals, Costs, [.. Enumerable.Range(0, Totals.Length)], Herd, 0, out _);
        double[] shares = [.. Totals.Select((t, i) => Math.Max(0, (level - t) / Costs[i].QueueStepDollars) / Herd)];
        Assert.All(shares, s => Assert.True(s > 0));
        return shares;
    }

    private static RouteScratch Scratch(string own, params string[] ids)
    {
        var scratch = new RouteScratch();
        foreach (string id in ids)
        {
            scratch.AddEntry(null, null, new TargetState(id), new ServedModel("m"), 0, null);
        }

        scratch.Group = new ModelGroup(0, 0, ids.Length);
        scratch.Requester = new NodeCostFactors(own, 1, 1, T0);
        return scratch;
    }

    [Fact]
    public void Routers_drawing_at_their_ranks_put_each_candidate_within_one_request_of_its_share_and_independent_draws_do_not()
    {
        const int Routers = 200;
        double[] shares = Shares();

        // Every offset: the routers' quantiles are evenly spaced whatever their common offset.
        foreach (long step in new long[] { 1, 2, 3, 17, 123_456_789 })
        {
            int[] stratified = Draws(Routers, r => HerdStrata.Quantile(r, Routers, step), new SeededRandomSource(1));
            for (int c = 0; c < shares.Length; c++)
            {
                Assert.InRange(stratified[c], (shares[c] * Routers) - 1, (shares[c] * Routers) + 1);
            }
        }

        // Drawn independently, the counts vary by about the square root of each share (3 to 4 requests here).
        int[] independent = Draws(Routers, _ => double.NaN, new SeededRandomSource(1));
        double worst = Enumerable.Range(0, shares.Length).Max(c => Math.Abs(independent[c] - (shares[c] * Routers)));
        Assert.True(worst > 3, $"independent draws' largest miss {worst:0.0} requests");
    }

    [Fact]
    public void A_router_alone_in_a_surge_spreads_its_own_draws_over_the_whole_band()
    {
        var time = new FakeTimeProvider(T0);
        var strata = new HerdStrata(time);
        RouteScratch scratch = Scratch("c", "a", "b", "c", "d");

        // Twenty draws 0.1 s apart: each fifth of [0, 1) takes four of them, give or take one.
        int[] fifths = new int[5];
        for (int k = 0; k < 20; k++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.NotNull(strata.Next(scratch, surge: true, out double quantile));
            fifths[(int)(quantile * 5)]++;
        }

        Assert.All(fifths, n => Assert.InRange(n, 3, 5));
    }

    [Fact]
    public void A_surge_counts_its_draws_from_the_first_again_after_a_stale_window_without_one()
    {
        var time = new FakeTimeProvider(T0);
        var strata = new HerdStrata(time);
        RouteScratch scratch = Scratch("b", "a", "b", "c", "d");

        strata.Next(scratch, surge: true, out double first);
        time.Advance(TimeSpan.FromSeconds(2));
        strata.Next(scratch, surge: true, out double second);

        // Rank 1 of 4: the first draw at 1/4 + frac(phi), the second a golden step further.
        Assert.Equal(HerdStrata.Quantile(1, 4, 1), first, 12);
        Assert.Equal(HerdStrata.Quantile(1, 4, 2), second, 12);
        Assert.NotEqual(first, second, 3);

        // Within the window of the last draw the count goes on; past it, a new surge starts at the first.
        time.Advance(HerdSpread.StaleWindow + TimeSpan.FromMilliseconds(1));
        strata.Next(scratch, surge: true, out double again);
        Assert.Equal(first, again, 12);
    }

    [Fact]
    public void Outside_a_surge_the_routers_of_one_stale_window_share_an_offset()
    {
        // Two routers of the same four nodes, at the same time: a quarter of a turn apart (ranks 0 and 1).
        var time = new FakeTimeProvider(T0);
        RouteScratch atA = Scratch("a", "a", "b", "c", "d");
        RouteScratch atB = Scratch("b", "a", "b", "c", "d");
        new HerdStrata(time).Next(atA, surge: false, out double a);
        new HerdStrata(time).Next(atB, surge: false, out double b);
        Assert.Equal(0.25, b - a < 0 ? b - a + 1 : b - a, 9);

        // The next window moves the offset, so a quiet router's draws do not stay on one place.
        var strata = new HerdStrata(time);
        strata.Next(atA, surge: false, out double now);
        time.Advance(HerdSpread.StaleWindow);
        strata.Next(atA, surge: false, out double later);
        Assert.NotEqual(now, later, 3);
    }

    [Fact]
    public void The_draw_order_is_the_candidates_by_id_and_the_rank_counts_this_router_once()
    {
        RouteScratch listed = Scratch("b", "c", "a", "b");
        HerdStrata.DrawOrder order = HerdStrata.DrawOrder.Of(listed, "b");
        Assert.Equal(["a", "b", "c"], order.Candidates.Select(i => listed.StateAt(i).TargetId));
        Assert.Equal(1, order.Rank);
        Assert.Equal(3, order.Routers);

        // Kept on the view's group: the next draw of the same view and model sorts nothing.
        Assert.Same(order, HerdStrata.DrawOrder.Of(listed, "b"));

        // A router that serves nothing of the model ranks among the candidates as one more.
        RouteScratch outside = Scratch("bb", "c", "a", "b");
        HerdStrata.DrawOrder beside = HerdStrata.DrawOrder.Of(outside, "bb");
        Assert.Equal(2, beside.Rank);
        Assert.Equal(4, beside.Routers);
    }

    [Fact]
    public void Without_its_own_node_in_view_a_router_draws_at_random()
    {
        RouteScratch scratch = Scratch("a", "a", "b");
        scratch.Requester = null;
        Assert.Null(new HerdStrata(new FakeTimeProvider(T0)).Next(scratch, surge: true, out _));
    }

    [Fact]
    public void The_draw_lays_the_band_out_in_the_order_given()
    {
        // Two equal candidates: the first half of the quantiles falls on whichever is laid out first.
        double[] totals = [1.0, 1.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.1)];
        int[] work = new int[2];
        var random = new SeededRandomSource(1);
        Assert.Equal(0, HerdSpread.Draw(new byte[2], totals, costs, 0, 0, 10, 0, default, 0.25, double.NaN, random, work, out int rival, out _, out _));
        Assert.Equal(1, rival);
        Assert.Equal(1, HerdSpread.Draw(new byte[2], totals, costs, 0, 0, 10, 0, [1, 0], 0.25, double.NaN, random, work, out rival, out _, out _));
        Assert.Equal(0, rival);
    }

    [Fact]
    public void Gateways_that_serve_nothing_draw_at_their_ranks_among_the_routers_not_at_one_place_among_the_candidates()
    {
        // Six gateways serving nothing, ten servers: among the candidates' ids every gateway would take
        // the same place (before "n0") and draw at the same quantile; among the six routers each has its own.
        string[] servers = [.. Enumerable.Range(0, 10).Select(i => $"n{i}")];
        var quantiles = new HashSet<double>();
        for (int g = 0; g < 6; g++)
        {
            RouteScratch scratch = Scratch($"gw{g}", servers);
            scratch.Routers = 6;
            scratch.RouterRank = g;
            Assert.NotNull(new HerdStrata(new FakeTimeProvider(T0)).Next(scratch, surge: true, out double quantile));
            Assert.Equal(HerdStrata.Quantile(g, 6, 1), quantile);
            quantiles.Add(quantile);
        }

        Assert.Equal(6, quantiles.Count);
    }
}
