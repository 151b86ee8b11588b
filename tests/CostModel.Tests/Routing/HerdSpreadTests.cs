using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>Spreading a burst by the water-filling allocation of the expected herd (HerdSpread).</summary>
public sealed class HerdSpreadTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);
    private const byte Eligible = 0;

    private static CostBreakdown Step(double dollars) => new() { QueueStepDollars = dollars };

    private static int[] Counts(double[] totals, CostBreakdown[] costs, double herd, double placed = 0, int draws = 20_000)
    {
        byte[] verdicts = new byte[totals.Length];
        int best = Array.IndexOf(totals, totals.Min());
        var random = new SeededRandomSource(7);
        int[] work = new int[totals.Length];
        int[] counts = new int[totals.Length];
        for (int i = 0; i < draws; i++)
        {
            int chosen = HerdSpread.Draw(verdicts, totals, costs, Eligible, best, herd, placed, default, double.NaN, double.NaN, random, work, out _, out _, out _);
            counts[chosen < 0 ? best : chosen]++;
        }

        return counts;
    }

    /// <summary>Counts <paramref name="count"/> arrivals, one every <paramref name="every"/>, and returns the rise after the last.</summary>
    private static double Arrive(HerdSpread spread, FakeTimeProvider time, int count, TimeSpan every)
    {
        double rise = 0;
        for (int i = 0; i < count; i++)
        {
            time.Advance(every);
            rise = spread.Arrived(time.GetUtcNow());
        }

        return rise;
    }

    [Fact]
    public void A_router_s_steady_traffic_from_its_start_is_no_surge()
    {
        // Two requests a second from the moment the router is built. Uncorrected, the usual rate (a
        // one-minute average started at zero) reads 0.57/s after 20 s under a recent rate of 2/s: a rise
        // of 1.43/s, a surge past the small mesh's allowance, and a herd of the other routers' requests.
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time);
        double rise = Arrive(spread, time, 40, TimeSpan.FromMilliseconds(500));

        Assert.InRange(rise, -0.3, 0.3);
        Assert.Equal(0, HerdSpread.Herd(rise, routers: 4));
        Assert.InRange(spread.UsualRate, 1.7, 2.3);

        // Past its start-up the same traffic is the usual one: no surge either.
        rise = Arrive(spread, time, 1_400, TimeSpan.FromMilliseconds(500));
        Assert.InRange(rise, -0.3, 0.3);
        Assert.Equal(0, HerdSpread.Herd(rise, routers: 4));
    }

    [Fact]
    public void A_burst_in_a_router_s_first_minute_is_still_a_surge()
    {
        // A request every 20 s from the start, then ten within a second at 40 s.
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time);
        Arrive(spread, time, 2, TimeSpan.FromSeconds(20));
        double rise = Arrive(spread, time, 10, TimeSpan.FromMilliseconds(100));

        Assert.True(rise > 2, $"rise {rise}");
        Assert.True(HerdSpread.Herd(rise, routers: 4) > HerdSpread.MinHerd);
    }

    [Fact]
    public void The_start_up_correction_ends_after_ten_usual_time_constants()
    {
        // One router built at T0, one whose rates have counted since ten minutes before: the same
        // arrivals give different rises in the first's first minutes and the same after its tenth.
        var young = new FakeTimeProvider(T0);
        var settled = new FakeTimeProvider(T0);
        var a = new HerdSpread(young);
        var b = new HerdSpread(settled, T0 - HerdSpread.StartUpAge);
        Assert.NotEqual(Arrive(a, young, 5, TimeSpan.FromSeconds(1)), Arrive(b, settled, 5, TimeSpan.FromSeconds(1)), 6);

        young.Advance(HerdSpread.StartUpAge);
        settled.Advance(HerdSpread.StartUpAge);
        Assert.Equal(Arrive(b, settled, 5, TimeSpan.FromSeconds(1)), Arrive(a, young, 5, TimeSpan.FromSeconds(1)), 12);
    }

    [Fact]
    public void A_weight_counts_against_the_usual_one_within_its_bounds()
    {
        var spread = new HerdSpread(new FakeTimeProvider(T0), T0 - HerdSpread.StartUpAge);

        Assert.Equal(1, spread.Weigh(2, 1, out _));                      // the first: the usual weight is its own
        Assert.Equal(1, spread.Weigh(0, 1, out _));                      // no weight: not counted
        Assert.Equal(2 / 3.0, spread.Weigh(1, 1, out _), 12);            // 1 against (2 + 1) / 2
        Assert.Equal(HerdSpread.MinWeightRatio, spread.Weigh(0.01, 1, out _));
        Assert.Equal(HerdSpread.MinWeightRatio, spread.Weigh(0.01, 1, out _));
        Assert.Equal(HerdSpread.MinWeightRatio, spread.Weigh(0.01, 1, out _));
        Assert.Equal(HerdSpread.MaxWeightRatio, spread.Weigh(100, 1, out _)); // 100 against 103.03 / 6
    }

    [Fact]
    public void A_request_s_work_is_its_tokens_at_the_scoring_priors()
    {
        var request = new RequestProfile("m") { InputTokens = 400, OutputTokens = 60 };

        Assert.Equal((400 / ScoringDefaults.PrefillTokensPerSecondPrior) + (60 / ScoringDefaults.DecodeTokensPerSecondPrior), HerdSpread.Work(request), 12);
    }

    [Fact]
    public void Below_one_expected_request_the_cheapest_is_left_to_the_picker()
    {
        double[] totals = [1.0, 1.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.1)];
        Assert.Equal(-1, HerdSpread.Draw(new byte[2], totals, costs, Eligible, 0, 0.9, 0, default, double.NaN, double.NaN, new SeededRandomSource(1), new int[2], out _, out _, out _));
    }

    [Fact]
    public void A_herd_is_drawn_in_proportion_to_its_cheapest_allocation()
    {
        // Herd 30; A costs 1.0 and rises 0.1 a request, B 2.0 rising 0.2, C 10 (never reached).
        // Level L: (L - 1) / 0.1 + (L - 2) / 0.2 = 30 -> L = 3.333: A takes 23.3, B 6.7.
        double[] totals = [1.0, 2.0, 10.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.2), Step(0.1)];
        int[] counts = Counts(totals, costs, 30);

        Assert.Equal(0, counts[2]);
        Assert.Equal(23.33 / 30, counts[0] / 20_000.0, 0.02);
        Assert.Equal(6.67 / 30, counts[1] / 20_000.0, 0.02);
    }

    [Fact]
    public void A_request_draws_from_the_band_of_the_herd_its_arrival_adds()
    {
        // As above, A at 1.0 rising 0.1 and B at 2.0 rising 0.2. The 20 requests placed before this
        // one fill up to 2.667 (A 16.67, B 3.33); the herd of 30 to 3.333 (A 23.33, B 6.67). This
        // request's band of 10: A 6.67, B 3.33, so B is drawn a third of the time, not 22 %.
        double[] totals = [1.0, 2.0, 10.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.2), Step(0.1)];
        int[] counts = Counts(totals, costs, 30, placed: 20);

        Assert.Equal(0, counts[2]);
        Assert.Equal(6.67 / 10, counts[0] / 20_000.0, 0.02);
        Assert.Equal(3.33 / 10, counts[1] / 20_000.0, 0.02);
    }

    [Fact]
    public void Requests_drawn_band_by_band_fill_the_allocation_of_the_whole_herd()
    {
        // Thirty requests, the k-th drawn from the band (k - 1, k]: together they are placed as the
        // allocation of 30 (A 23.33, B 6.67), where each drawing from the allocation of the herd so
        // far (1, 2, ... 30) would put 26.0 on A: the early ones, expecting little, all take A.
        double[] totals = [1.0, 2.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.2)];
        double banded = 0;
        double sofar = 0;
        const int Draws = 4_000;
        for (int k = 1; k <= 30; k++)
        {
            banded += Counts(totals, costs, k, placed: k - 1, draws: Draws)[0] / (double)Draws;
            sofar += Counts(totals, costs, k, draws: Draws)[0] / (double)Draws;
        }

        Assert.Equal(23.33, banded, 0.5);
        Assert.True(sofar > 25.5, $"drawn from the herd so far, A took {sofar:0.0} of 30");
    }

    [Fact]
    public void The_herd_placed_before_a_request_is_the_herd_without_its_arrival()
    {
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
        double rise = Arrive(spread, time, 4, TimeSpan.FromMilliseconds(200));

        // A mesh of 100: the fourth request's band is what its arrival (1/2 s of recent rate less
        // 1/60 s of usual rate) adds to the herd; the requests before it took the herd below.
        double before = rise - (1 / 2.0) + (1 / 60.0);
        Assert.Equal(HerdSpread.Herd(before, 100), HerdSpread.Placed(rise, 100), 9);
        Assert.Equal(99 * (1 / 2.0 - (1 / 60.0)) * HerdSpread.StaleWindow.TotalSeconds, HerdSpread.Herd(rise, 100) - HerdSpread.Placed(rise, 100), 6);

        // The first request of a burst stands for no band: nothing is placed before it.
        Assert.Equal(0, HerdSpread.Placed(1 / 2.0, 100));
    }

    [Fact]
    public void In_a_large_mesh_the_second_request_of_a_surge_finds_the_first_ones_placed()
    {
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
        double rise = Arrive(spread, time, 2, TimeSpan.FromMilliseconds(200));

        // A mesh of 100: two requests within 0.2 s are a surge (past 1.5 requests per 2 s), whose
        // herd counts the first requests; so does the herd placed before the second request, although
        // the rise without it is under the threshold: the second request's band starts above the
        // other routers' first requests.
        double before = rise - (1 / 2.0) + (1 / 60.0);
        Assert.True(rise > HerdSpread.LargeMeshClumpRequests / 2.0 && before < HerdSpread.LargeMeshClumpRequests / 2.0, $"rise {rise}");
        Assert.Equal(0, HerdSpread.Herd(before, 100));
        Assert.Equal(99 * before * HerdSpread.StaleWindow.TotalSeconds, HerdSpread.Placed(rise, 100), 9);
        Assert.True(HerdSpread.Placed(rise, 100) < HerdSpread.Herd(rise, 100));

        // A mesh of 10 keeps the clumping allowance discounted: nothing is placed before a rise that
        // is no surge there.
        Assert.Equal(0, HerdSpread.Herd(rise, 10));
        Assert.Equal(0, HerdSpread.Placed(rise, 10));
    }

    [Fact]
    public void A_small_herd_stays_on_the_cheapest_when_it_can_absorb_it()
    {
        // Herd 5 on A (rises 0.1 a request): its price reaches 1.5, still below B's 2.0.
        double[] totals = [1.0, 2.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.1)];
        Assert.Equal(-1, HerdSpread.Draw(new byte[2], totals, costs, Eligible, 0, 5, 0, default, double.NaN, double.NaN, new SeededRandomSource(1), new int[2], out _, out _, out _));
    }

    [Fact]
    public void Rejected_candidates_take_no_share()
    {
        double[] totals = [1.0, 1.0, 1.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.1), Step(0.1)];
        byte[] verdicts = [Eligible, 2, Eligible];
        var random = new SeededRandomSource(3);
        int[] work = new int[3];
        for (int i = 0; i < 1000; i++)
        {
            Assert.NotEqual(1, HerdSpread.Draw(verdicts, totals, costs, Eligible, 0, 50, 0, default, double.NaN, double.NaN, random, work, out _, out _, out _));
        }
    }

    [Fact]
    public void A_cheapest_without_a_queue_takes_the_herd()
    {
        // An API endpoint (no queue step) cheapest: nothing to spread.
        double[] totals = [1.0, 1.2];
        CostBreakdown[] costs = [Step(0), Step(0.1)];
        Assert.Equal(-1, HerdSpread.Draw(new byte[2], totals, costs, Eligible, 0, 100, 0, default, double.NaN, double.NaN, new SeededRandomSource(1), new int[2], out _, out _, out _));
    }

    // Two fast candidates (queue step 0.1) and four slow ones (0.5), all priced 1.0: a herd of 100 fills
    // them to 1 + 100 / 28, each fast one taking 10 / 28 of it, each slow one 2 / 28; the fast tier's
    // share of the band is 20 / 28 (0.714), the slow tier's 8 / 28.
    private static readonly double[] TierTotals = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    private static readonly CostBreakdown[] TierCosts = [Step(0.1), Step(0.1), Step(0.5), Step(0.5), Step(0.5), Step(0.5)];

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(0.70, true)]
    [InlineData(0.73, false)]
    [InlineData(1.0, false)]
    public void A_sorted_draw_falls_within_the_speed_tier_where_the_request_s_size_falls(double place, bool fast)
    {
        var random = new SeededRandomSource(5);
        int[] work = new int[TierTotals.Length];
        for (int i = 0; i < 2_000; i++)
        {
            int first = HerdSpread.Draw(new byte[TierTotals.Length], TierTotals, TierCosts, Eligible, 0, 100, 0, default, double.NaN, place, random, work, out int rival, out _, out _);
            Assert.Equal(fast, first < 2);
            Assert.Equal(fast, rival < 2);
        }
    }

    [Fact]
    public void Sorted_draws_of_every_size_keep_the_allocation_of_the_herd()
    {
        // Sizes placed evenly over [0, 1): each candidate is drawn as often as without tiers, its share of the band.
        var random = new SeededRandomSource(11);
        int[] work = new int[TierTotals.Length];
        int[] counts = new int[TierTotals.Length];
        const int Draws = 40_000;
        for (int i = 0; i < Draws; i++)
        {
            double place = (i + 0.5) / Draws;
            counts[HerdSpread.Draw(new byte[TierTotals.Length], TierTotals, TierCosts, Eligible, 0, 100, 0, default, double.NaN, place, random, work, out _, out _, out _)]++;
        }

        for (int i = 0; i < counts.Length; i++)
        {
            Assert.Equal(i < 2 ? 10 / 28.0 : 2 / 28.0, counts[i] / (double)Draws, 0.01);
        }
    }

    [Fact]
    public void Queue_steps_within_twice_the_fastest_are_one_tier()
    {
        // Steps 0.1, 0.19 and 0.21: the first two one tier, the third the next; the largest request draws from the first two only.
        double[] totals = [1.0, 1.0, 1.0];
        CostBreakdown[] costs = [Step(0.1), Step(0.19), Step(0.21)];
        var random = new SeededRandomSource(9);
        int[] work = new int[3];
        var drawn = new HashSet<int>();
        for (int i = 0; i < 2_000; i++)
        {
            drawn.Add(HerdSpread.Draw(new byte[3], totals, costs, Eligible, 0, 100, 0, default, double.NaN, 0.0, random, work, out _, out _, out _));
        }

        Assert.Equal([0, 1], drawn.Order());
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(1e-300)]
    [InlineData(7.7e300)]
    public void Steps_a_rounding_apart_or_at_the_ends_of_the_range_draw_without_error(double fastest)
    {
        // The next step up from the fastest is in its tier, three times it the next; an infinite step joins
        // the last tier with no share of the band: no tier index falls outside the table at either end of the range.
        double[] totals = [1.0, 1.0, 1.0, 1.0];
        CostBreakdown[] costs = [Step(fastest), Step(Math.BitIncrement(fastest)), Step(fastest * 3), Step(double.PositiveInfinity)];
        var random = new SeededRandomSource(4);
        int[] work = new int[4];
        for (int i = 0; i <= 100; i++)
        {
            int drawn = HerdSpread.Draw(new byte[4], totals, costs, Eligible, 0, 100, 0, default, double.NaN, i / 100.0, random, work, out int rival, out _, out _);
            Assert.InRange(drawn, -1, 2);
            Assert.InRange(rival, -1, 2);
        }
    }

    [Fact]
    public void Without_a_size_place_the_draw_spans_every_tier()
    {
        var random = new SeededRandomSource(5);
        int[] work = new int[TierTotals.Length];
        var drawn = new HashSet<int>();
        for (int i = 0; i < 2_000; i++)
        {
            drawn.Add(HerdSpread.Draw(new byte[TierTotals.Length], TierTotals, TierCosts, Eligible, 0, 100, 0, default, double.NaN, double.NaN, random, work, out _, out _, out _));
        }

        Assert.Equal(TierTotals.Length, drawn.Count);
    }

    [Fact]
    public void Of_two_draws_the_one_with_fewer_own_requests_per_share_is_kept()
    {
        Assert.True(HerdSpread.KeepFirst(2, 20, 1, 5));   // 0.1 per share against 0.2
        Assert.False(HerdSpread.KeepFirst(2, 5, 1, 5));
        Assert.True(HerdSpread.KeepFirst(0, 1, 0, 1));    // a tie keeps the first
    }

    [Fact]
    public void A_surge_at_this_router_is_expected_at_every_router_and_usual_traffic_is_not()
    {
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);

        // Usual traffic: one request every 10 s for ten minutes; the recent and usual rates agree.
        Arrive(spread, time, 60, TimeSpan.FromSeconds(10));

        double usual = spread.ExpectedHerd(48);
        Assert.True(usual < HerdSpread.MinHerd, $"usual traffic expects a herd of {usual}");

        // Six requests within a second: a surge of several a second here, taken at 47 other routers.
        Arrive(spread, time, 6, TimeSpan.FromMilliseconds(150));

        double burst = spread.ExpectedHerd(48);
        Assert.True(burst > 100, $"a burst expects a herd of {burst}");
        Assert.True(spread.ExpectedHerd(1) < burst / 20, "a router alone expects only its own requests");
    }

    [Fact]
    public void In_a_large_mesh_a_second_quick_request_is_a_surge_counted_from_the_first_and_in_a_small_one_it_is_clumping()
    {
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);

        // Usual traffic: one request a minute for ten minutes.
        Arrive(spread, time, 10, TimeSpan.FromSeconds(60));

        // A burst's first two requests, 0.3 s apart.
        time.Advance(TimeSpan.FromSeconds(60));
        spread.Arrived();
        time.Advance(TimeSpan.FromMilliseconds(300));
        spread.Arrived();

        // 16 routers: 15 x 2 uncounted first requests are within the allowance; Poisson clumping.
        Assert.True(spread.ExpectedHerd(16) < HerdSpread.MinHerd, $"16 routers expect a herd of {spread.ExpectedHerd(16)}");

        // 48 routers: large since the eighth round (47 x 2 = 94 first requests pass UncountedHerd, 32).
        Assert.InRange(spread.ExpectedHerd(48), 47 * 0.8 * HerdSpread.StaleWindow.TotalSeconds, 47 * 1.0 * HerdSpread.StaleWindow.TotalSeconds);

        // 100 routers: a surge, and the herd counts the whole rise, both requests, at each of the 99
        // others: a recent rate of about 0.93/s (2 requests per 2 s, less 0.3 s of decay) over the
        // 2.8 s window, about 250. Discounting the allowance would leave about 50.
        double herd = spread.ExpectedHerd(100);
        Assert.InRange(herd, 200, 99 * 1.0 * HerdSpread.StaleWindow.TotalSeconds);
    }

    [Theory]
    [InlineData(1, 10, 5.0)]
    [InlineData(2, 100, 40.0)]
    [InlineData(3, 1000, 300.0)]
    [InlineData(4, 1000, 3.0)]
    public void The_water_level_is_where_the_candidates_shares_add_up_to_the_herd(int seed, int candidates, double herd)
    {
        // Candidates in no particular order, prices and queue steps of a mixed mesh.
        var random = new Random(seed);
        double[] totals = new double[candidates];
        CostBreakdown[] costs = new CostBreakdown[candidates];
        int[] kept = new int[candidates];
        for (int i = 0; i < candidates; i++)
        {
            totals[i] = 0.01 + (random.NextDouble() * 0.05);
            costs[i] = Step(0.0005 + (random.NextDouble() * 0.005));
            kept[i] = i;
        }

        double level = HerdSpread.Levels(totals, costs, kept, herd, 0, out _);

        double filled = 0;
        for (int i = 0; i < candidates; i++)
        {
            filled += Math.Max(0, (level - totals[i]) / costs[i].QueueStepDollars);
        }

        Assert.Equal(herd, filled, 1e-9 * herd);
        Assert.True(level > totals.Min(), "the cheapest takes a share");
    }

    [Fact]
    public void A_candidate_without_a_queue_stops_the_level_just_above_its_price_and_takes_the_rest()
    {
        // A rises 0.1 a request from 1.0; the endpoint E costs 1.5 flat; B at 3.0 is never reached.
        // Herd 30: A alone would rise to 4.0, past E, so the level stops at E (A takes 5, E the rest).
        double[] totals = [3.0, 1.5, 1.0];
        CostBreakdown[] costs = [Step(0.1), Step(0), Step(0.1)];

        double level = HerdSpread.Levels(totals, costs, [0, 1, 2], 30, 0, out _);

        Assert.True(level > 1.5 && level < 1.5 + 1e-12, $"level {level}");
    }

    [Fact]
    public void The_rise_an_arrival_returns_is_the_one_read_at_its_time_and_the_herd_follows_from_it()
    {
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
        double rise = Arrive(spread, time, 6, TimeSpan.FromMilliseconds(150));

        Assert.Equal(spread.Rise(), rise, 12);
        Assert.Equal(spread.ExpectedHerd(48), HerdSpread.Herd(rise, 48), 9);
        Assert.True(HerdSpread.Herd(rise, 48) > 100);

        // A decision timed before the last one (a clock set back, another thread's older reading)
        // leaves the counts as they are (no growth from a negative interval): the request adds 1/2 s
        // to the recent rate and 1/60 s to the usual one.
        double again = spread.Arrived(T0);
        Assert.Equal((1 / 2.0) - (1 / 60.0), again - rise, 9);
    }

    [Theory]
    [InlineData(5, false)]
    [InlineData(17, false)]
    [InlineData(18, true)]
    [InlineData(48, true)]
    public void A_mesh_is_large_once_its_routers_first_requests_pass_the_uncounted_herd(int routers, bool large)
    {
        // The other routers' first two requests: 16 x 2 = 32 at 17 routers, within UncountedHerd; 34 at 18.
        // The 4- and 5-node meshes, where a false surge spread onto a crashed or cut-off node, stay small;
        // mesh-burst-48 (94 first requests, 41 to 76 % of its burst's gap to the oracle) is large.
        Assert.Equal(large, HerdSpread.IsLargeMesh(routers));
    }

    [Fact]
    public void A_quiet_router_of_a_large_mesh_expects_the_usual_herd_and_a_busy_router_or_a_small_mesh_none()
    {
        // One request a minute at each of 500 routers: 499 x (1/60) x 2.8 s = 23.3 requests placed while
        // the view is stale; at 48 routers 2.2. At 16 routers the first requests (15 x 2 = 30) stay within
        // the uncounted herd of 32; at 1 request a second a router is busy (2.8 a stale window).
        Assert.Equal(499 / 60.0 * 2.8, HerdSpread.UsualHerd(1 / 60.0, 500), 9);
        Assert.Equal(47 / 60.0 * 2.8, HerdSpread.UsualHerd(1 / 60.0, 48), 9);
        Assert.Equal(0, HerdSpread.UsualHerd(1 / 60.0, 16));
        Assert.Equal(0, HerdSpread.UsualHerd(1.0, 500));
        Assert.Equal(0, HerdSpread.UsualHerd(0, 500));
    }

    [Fact]
    public void Arrivals_within_the_decay_quantum_are_all_counted_as_of_the_last_decay()
    {
        // Five arrivals within 0.8 ms of the counts' last decay (the estimator's creation): none
        // decays them, so the rates are exactly 5 over each time constant. An exact decay would
        // leave the recent rate about 0.001/s lower.
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
        double rise = spread.Arrived(T0);
        for (int i = 1; i < 5; i++)
        {
            rise = spread.Arrived(T0 + TimeSpan.FromMilliseconds(0.2 * i));
        }

        Assert.True(HerdSpread.DecayQuantum > TimeSpan.FromMilliseconds(0.8));
        Assert.Equal((5 / 2.0) - (5 / 60.0), rise, 12);
        Assert.Equal(5 / 60.0, spread.UsualRate, 12);

        // A quantum after the last decay the counts decay again, from the time of that decay (T0).
        time.Advance(HerdSpread.DecayQuantum);
        double decayed = HerdSpread.DecayQuantum.TotalSeconds;
        Assert.Equal((5 / 2.0 * Math.Exp(-decayed / 2)) - (5 / 60.0 * Math.Exp(-decayed / 60)), spread.Rise(), 12);
    }

    [Fact]
    public void The_rates_stay_within_the_quantum_s_bound_of_the_exact_decay()
    {
        // Arrivals at uneven intervals, from a tenth of the quantum to fifty quanta: after each, the
        // recent and usual rates against the exact decay of every arrival so far.
        var time = new FakeTimeProvider(T0);
        var spread = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
        var random = new Random(11);
        var arrivals = new List<DateTimeOffset>();
        double quantum = HerdSpread.DecayQuantum.TotalSeconds;
        double recentBound = Math.Exp(quantum / HerdSpread.RecentTimeConstant.TotalSeconds) - 1;
        double usualBound = Math.Exp(quantum / HerdSpread.UsualRateTimeConstant.TotalSeconds) - 1;
        double worstRecent = 0;
        for (int i = 0; i < 2_000; i++)
        {
            double every = random.Next(4) == 0 ? quantum * 50 * random.NextDouble() : quantum * (0.1 + random.NextDouble());
            time.Advance(TimeSpan.FromSeconds(every));
            DateTimeOffset now = time.GetUtcNow();
            arrivals.Add(now);
            double rise = spread.Arrived(now);

            double recent = 0;
            double usual = 0;
            foreach (DateTimeOffset at in arrivals)
            {
                double age = (now - at).TotalSeconds;
                recent += Math.Exp(-age / HerdSpread.RecentTimeConstant.TotalSeconds);
                usual += Math.Exp(-age / HerdSpread.UsualRateTimeConstant.TotalSeconds);
            }

            double exactRecentRate = recent / HerdSpread.RecentTimeConstant.TotalSeconds;
            double exactUsualRate = usual / HerdSpread.UsualRateTimeConstant.TotalSeconds;
            double recentError = Math.Abs(rise + spread.UsualRate - exactRecentRate) / exactRecentRate;
            Assert.True(recentError <= recentBound, $"arrival {i}: recent rate off by {recentError:P4}, bound {recentBound:P4}");
            Assert.True(Math.Abs(spread.UsualRate - exactUsualRate) <= usualBound * exactUsualRate, $"arrival {i}: usual rate {spread.UsualRate} against {exactUsualRate}");
            worstRecent = Math.Max(worstRecent, recentError);
        }

        // The quantum did approximate (the rule is exercised, not an exact decay by another name).
        Assert.True(worstRecent > recentBound / 10, $"worst recent error {worstRecent:P4}");
    }

    [Fact]
    public void The_usual_rate_is_the_one_of_the_last_arrival()
    {
        var time = new FakeTimeProvider(T0);
        var herd = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
        Assert.Equal(0, herd.UsualRate);

        herd.Arrived();
        Assert.Equal(1 / 60.0, herd.UsualRate, 9);

        // 60 s later, a second arrival: the first decayed by e^-1.
        time.Advance(TimeSpan.FromSeconds(60));
        herd.Arrived();
        Assert.Equal((1 + Math.Exp(-1)) / 60, herd.UsualRate, 9);
    }

    [Fact]
    public void A_busy_router_expects_the_usual_herd_the_other_routers_report_and_a_quiet_one_none()
    {
        // A request a second here (2.8 a stale window: busy), the others reporting 7.5 a second in all.
        Assert.Equal(7.5 * 2.8, HerdSpread.BusyHerd(1.0, 7.5), 9);

        // Quiet (one request a minute): the quiet router's herd is UsualHerd's, not this one.
        Assert.Equal(0, HerdSpread.BusyHerd(1 / 60.0, 7.5));

        // Nothing reported, or nonsense: no herd.
        Assert.Equal(0, HerdSpread.BusyHerd(1.0, 0));
        Assert.Equal(0, HerdSpread.BusyHerd(1.0, double.NaN));
        Assert.Equal(0, HerdSpread.BusyHerd(1.0, double.PositiveInfinity));
    }
}
