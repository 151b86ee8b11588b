using CostModel.Factors;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Routing;

/// <summary>The picker alone, over a scratch filled by hand: verdicts and totals in, one choice and its notes out.</summary>
public sealed class PickerTests : IDisposable
{
    private readonly OwnedMeterFactory _meters = new();
    private readonly CostModelMetrics _metrics;

    public PickerTests() => _metrics = new CostModelMetrics(_meters);

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void The_cheapest_eligible_candidate_wins_and_rejected_ones_are_never_chosen()
    {
        RouteScratch scratch = Scratch((Verdict.HardRejected, 0.1), (Verdict.Eligible, 2.0), (Verdict.SoftRejected, 0.5), (Verdict.Eligible, 1.0));

        int chosen = Picker().Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0 }, rise: 0, work: 0, out RouteNotes flags, out int eligible);

        Assert.Equal(3, chosen);
        Assert.Equal(2, eligible);
        Assert.Equal(RouteNotes.None, flags);
    }

    [Fact]
    public void Only_soft_rejections_left_means_panic_among_them()
    {
        RouteScratch scratch = Scratch((Verdict.HardRejected, 0.1), (Verdict.SoftRejected, 2.0), (Verdict.SoftRejected, 1.5));

        int chosen = Picker().Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0 }, rise: 0, work: 0, out RouteNotes flags, out int eligible);

        Assert.Equal(2, chosen);
        Assert.Equal(0, eligible);
        Assert.Equal(RouteNotes.Panic, flags);
    }

    [Fact]
    public void Only_hard_rejections_leave_no_choice()
    {
        RouteScratch scratch = Scratch((Verdict.HardRejected, 0.1), (Verdict.HardRejected, 2.0));

        Assert.Equal(-1, Picker().Choose(scratch, null, new RoutingOptions(), rise: 0, work: 0, out RouteNotes flags, out _));
        Assert.Equal(RouteNotes.None, flags);
    }

    [Fact]
    public void The_incumbent_is_kept_within_the_band_and_left_beyond_it()
    {
        var options = new RoutingOptions { HysteresisBand = 0.2, HysteresisEpsilonDollars = 0, SpreadTolerance = 0 };

        // The challenger (t0) is 10 % cheaper than the incumbent (t1): within a 20 % band.
        RouteScratch within = Scratch((Verdict.Eligible, 0.90), (Verdict.Eligible, 1.0));
        Assert.Equal(1, Picker().Choose(within, "t1", options, rise: 0, work: 0, out RouteNotes kept, out _));
        Assert.Equal(RouteNotes.StickyKept, kept);

        // 30 % cheaper: past the band.
        RouteScratch beyond = Scratch((Verdict.Eligible, 0.70), (Verdict.Eligible, 1.0));
        Assert.Equal(0, Picker().Choose(beyond, "t1", options, rise: 0, work: 0, out RouteNotes switched, out _));
        Assert.Equal(RouteNotes.Switched, switched);

        // The incumbent filtered out: stickiness broken.
        RouteScratch gone = Scratch((Verdict.Eligible, 0.90), (Verdict.HardRejected, 1.0));
        Assert.Equal(0, Picker().Choose(gone, "t1", options, rise: 0, work: 0, out RouteNotes broken, out _));
        Assert.Equal(RouteNotes.StickinessBroken, broken);
    }

    [Fact]
    public void Near_equals_are_spread_to_the_one_with_less_work_in_flight()
    {
        RouteScratch scratch = Scratch((Verdict.Eligible, 1.00), (Verdict.Eligible, 1.01), (Verdict.Eligible, 5.0));
        scratch.StateAt(0).Placed();
        scratch.StateAt(0).Placed();

        // Two near-equals: power of two choices compares both, whatever the random draws.
        int chosen = Picker().Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0.05, HysteresisEpsilonDollars = 0 }, rise: 0, work: 0, out RouteNotes flags, out _);

        Assert.Equal(1, chosen);
        Assert.Equal(RouteNotes.RandomTieBreak, flags);
    }

    [Fact]
    public void A_draw_from_an_expected_herd_is_noted_as_one()
    {
        // Three candidates whose price rises 0.1 $ a request; this router just saw six requests in 0.9 s.
        RouteScratch scratch = Scratch((Verdict.Eligible, 1.0), (Verdict.Eligible, 1.2), (Verdict.Eligible, 1.4));
        for (int i = 0; i < 3; i++)
        {
            scratch.Costs[i] = scratch.Costs[i] with { QueueStepDollars = 0.1 };
        }

        var time = new FakeTimeProvider();
        var herd = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
        for (int i = 0; i < 6; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(150));
            herd.Arrived();
        }

        var picker = new Picker(_metrics, new SeededRandomSource(1));
        Assert.True(herd.ExpectedHerd(3) >= HerdSpread.MinHerd);
        picker.Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0 }, rise: herd.Rise(), work: 0, out RouteNotes flags, out _);

        Assert.Equal(RouteNotes.HerdDraw | RouteNotes.RandomTieBreak, flags);
    }

    [Theory]
    [InlineData(60, true)]
    [InlineData(16, false)]
    public void Outside_a_surge_a_quiet_router_of_a_large_mesh_draws_from_the_usual_herd_and_of_a_small_mesh_takes_the_cheapest(int candidates, bool spreads)
    {
        // Prices 1.00, 1.05, 1.10, ... rising 0.1 $ a request; the router saw one request (1 a minute
        // usual, no surge). At 60 routers the usual herd is 59 / 60 x 2.8 = 2.75 requests: the draw
        // reaches the first three. At 16 the mesh's first requests (15 x 2) stay uncounted: the cheapest.
        (byte, double)[] priced = [.. Enumerable.Range(0, candidates).Select(i => (Verdict.Eligible, 1.0 + (0.05 * i)))];
        RouteScratch scratch = Scratch(priced);
        for (int i = 0; i < candidates; i++)
        {
            scratch.Costs[i] = scratch.Costs[i] with { QueueStepDollars = 0.1 };
        }

        var herd = Settled(new FakeTimeProvider());
        double rise = herd.Arrived(new FakeTimeProvider().GetUtcNow());
        Assert.True(HerdSpread.Herd(rise, candidates) < HerdSpread.MinHerd);
        var picker = new Picker(_metrics, new SeededRandomSource(1), herd);

        var chosen = new HashSet<int>();
        RouteNotes all = RouteNotes.None;
        for (int k = 0; k < 200; k++)
        {
            chosen.Add(picker.Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0, HysteresisEpsilonDollars = 0 }, rise, work: 0, out RouteNotes flags, out _));
            all |= flags;
        }

        if (spreads)
        {
            Assert.Equal([0, 1, 2], chosen.Order());
            Assert.Equal(RouteNotes.HerdDraw | RouteNotes.RandomTieBreak, all);
        }
        else
        {
            Assert.Equal([0], chosen);
            Assert.Equal(RouteNotes.None, all);
        }
    }

    [Fact]
    public void In_a_large_mesh_the_routers_draws_are_stratified_and_fill_the_usual_herd_s_allocation_within_one_request()
    {
        // Sixty routers t0 to t59, each quiet (one request, the usual herd 2.75) over the same sixty candidates
        // priced 1.00, 1.05, ... rising 0.1 $ a request, at the same moment. The allocation's level is 1.1417:
        // the first three take 1.417, 0.917 and 0.417 of 2.75, so of sixty draws 30.9, 20.0 and 9.1.
        RouteScratch scratch = Ladder(60);

        var time = new FakeTimeProvider();
        var random = new SeededRandomSource(1);
        int[] counts = new int[60];
        for (int router = 0; router < 60; router++)
        {
            var herd = new HerdSpread(time, time.GetUtcNow() - HerdSpread.StartUpAge);
            double rise = herd.Arrived(time.GetUtcNow());
            var picker = new Picker(_metrics, random, herd, new HerdStrata(time));

            // Each router's own view: its own model group, and its own node.
            scratch.Group = new ModelGroup(0, 0, 60);
            scratch.Requester = new NodeCostFactors($"t{router}", 1, 1, time.GetUtcNow());
            counts[picker.Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0, HysteresisEpsilonDollars = 0 }, rise, work: 0, out RouteNotes flags, out _)]++;
            Assert.Equal(RouteNotes.HerdDraw | RouteNotes.RandomTieBreak, flags);
        }

        // Drawn at random (the same routers without HerdStrata) the second candidate took 17, not 19 to 21.
        Assert.InRange(counts[0], 30, 32);
        Assert.InRange(counts[1], 19, 21);
        Assert.InRange(counts[2], 8, 10);
        Assert.Equal(60, counts[0] + counts[1] + counts[2]);
    }

    [Fact]
    public void In_a_large_mesh_a_light_request_reaches_further_than_a_heavy_one()
    {
        // As above at 60 routers (usual herd 2.75: the first three). After 200 heavy requests (work
        // 10 at 1 $/s) a light one (work 1) weighs a tenth of the usual, counted as a quarter
        // (MinWeightRatio): its herd is 11, whose level (1.307) reaches the first seven.
        RouteScratch scratch = Ladder(60);

        var herd = Settled(new FakeTimeProvider());
        double rise = herd.Arrived(new FakeTimeProvider().GetUtcNow());
        var picker = new Picker(_metrics, new SeededRandomSource(1), herd);
        var options = new RoutingOptions { SpreadTolerance = 0, HysteresisEpsilonDollars = 0 };

        var heavy = new HashSet<int>();
        for (int k = 0; k < 200; k++)
        {
            heavy.Add(picker.Choose(scratch, null, options, rise, work: 10, out _, out _));
        }

        var light = new HashSet<int>();
        for (int k = 0; k < 200; k++)
        {
            light.Add(picker.Choose(scratch, null, options, rise, work: 1, out _, out _));
        }

        Assert.Equal([0, 1, 2], heavy.Order());
        Assert.Contains(light, i => i >= 3);
        Assert.All(light, i => Assert.InRange(i, 0, 6));
    }

    [Fact]
    public void Choosing_counts_nothing_and_the_decisions_notes_are_counted_once()
    {
        // The router may choose again after a failed spend reservation: the panic is one decision's.
        using var panics = new MetricCollector<long>(_metrics.Meter, "costmodel.router.panic");
        RouteScratch scratch = Scratch((Verdict.SoftRejected, 2.0), (Verdict.SoftRejected, 1.5));
        Picker picker = Picker();

        picker.Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0 }, rise: 0, work: 0, out RouteNotes first, out _);
        scratch.Verdicts[1] = Verdict.HardRejected;
        picker.Choose(scratch, null, new RoutingOptions { SpreadTolerance = 0 }, rise: 0, work: 0, out RouteNotes again, out _);
        Assert.Empty(panics.GetMeasurementSnapshot());

        picker.Count(again);
        Assert.Equal(RouteNotes.Panic, first);
        Assert.Equal(1, panics.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    private Picker Picker() => new(_metrics, new SeededRandomSource(1));

    // Candidates priced 1.00, 1.05, 1.10, ... each rising 0.1 $ a request queued (the large-mesh tests' ladder).
    private static RouteScratch Ladder(int count)
    {
        RouteScratch scratch = Scratch([.. Enumerable.Range(0, count).Select(i => (Verdict.Eligible, 1.0 + (0.05 * i)))]);
        for (int i = 0; i < count; i++)
        {
            scratch.Costs[i] = scratch.Costs[i] with { QueueStepDollars = 0.1 };
        }

        return scratch;
    }

    /// <summary>Targets t0, t1, ... with the given verdicts and totals (costs priced at 1 $/s of latency).</summary>
    private static RouteScratch Scratch(params (byte Verdict, double Total)[] candidates)
    {
        var scratch = new RouteScratch();
        for (int i = 0; i < candidates.Length; i++)
        {
            scratch.AddEntry(null, null, new TargetState($"t{i}"), new ServedModel("m"), 0, null);
            scratch.Verdicts[i] = candidates[i].Verdict;
            scratch.Adjusted[i] = candidates[i].Total;
            scratch.Costs[i] = new CostBreakdown { ComputeLatencySeconds = candidates[i].Total, ValueOfTimeDollarsPerSecond = 1 };
        }

        return scratch;
    }

    // A router past its start-up (HerdSpread.StartUpTimeConstants): its rates not corrected for their start.
    private static HerdSpread Settled(FakeTimeProvider time) => new(time, time.GetUtcNow() - HerdSpread.StartUpAge);
}
