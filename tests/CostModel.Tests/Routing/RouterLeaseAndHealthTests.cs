using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Tests.Routing;

public sealed class RouterLeaseAndHealthTests : IDisposable
{
    private readonly RouterFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void A_node_that_reports_no_decode_speed_is_priced_on_what_its_outcomes_show_even_far_slower_than_the_prior()
    {
        // A CPU-only box that reports no decode speed: priced on the library's prior until its
        // outcomes teach it; it decodes ten times slower than the prior.
        MeshNode reported = _f.Node("cpu-box");
        ServedModel model = reported.Capabilities.Models[0] with { DecodeTokensPerSecond = null };
        _f.Add(new MeshNode(reported.Factors, reported.Capabilities with { Models = [model] }));

        RouteDecision first = _f.Router.Route(RouterFixture.Request());
        Assert.Equal("cpu-box", first.TargetId);
        double priorDecodeSeconds = 200 / ScoringDefaults.DecodeTokensPerSecondPrior;
        Assert.True(first.Lease.Complete(new RouteOutcome(true, first.Cost.LatencySeconds + (9 * priorDecodeSeconds), 200)));

        // The speed is learned (the slowdown alone would price it at most MaxSlowdownRatio above).
        RouteDecision second = _f.Router.Route(RouterFixture.Request());
        second.Lease.Dispose();
        Assert.True(second.Cost.LatencySeconds > first.Cost.LatencySeconds + (8 * priorDecodeSeconds), $"{first.Cost.LatencySeconds} s, then {second.Cost.LatencySeconds} s");
    }

    [Fact]
    public void Leases_never_completed_expire_and_counts_return_to_zero()
    {
        _f.Add(_f.Node("a"), _f.Node("b"));
        for (int i = 0; i < 20; i++)
        {
            _f.Router.Route(RouterFixture.Request());
        }

        Assert.Equal(20, _f.Router.ActiveLeases);
        Assert.Equal(20, _f.Router.InFlight("a") + _f.Router.InFlight("b"));

        _f.Time.Advance(RoutingDefaults.LeaseTimeout + TimeSpan.FromMinutes(3));
        _f.Router.Route(RouterFixture.Request()).Lease.Dispose();

        Assert.Equal(0, _f.Router.ActiveLeases);
        Assert.Equal(0, _f.Router.InFlight("a") + _f.Router.InFlight("b"));
    }

    [Fact]
    public void A_lease_counts_once_and_never_below_zero()
    {
        _f.Add(_f.Node("a"));
        RouteDecision d = _f.Router.Route(RouterFixture.Request());

        Assert.True(d.Lease.Complete(new RouteOutcome(true, 1, 10)));
        Assert.False(d.Lease.Complete(new RouteOutcome(true, 1, 10)));
        d.Lease.Dispose();

        Assert.Equal(0, _f.Router.InFlight("a"));
        Assert.Equal(0, _f.Router.ActiveLeases);
    }

    [Fact]
    public void Ejection_never_exceeds_its_cap_and_never_removes_the_last_candidate()
    {
        // Ten nodes, all failing: the 10 % cap allows one ejection at a time.
        for (int i = 0; i < 10; i++)
        {
            _f.Add(_f.Node($"n{i}"));
        }

        for (int i = 0; i < 500; i++)
        {
            RouteDecision d = _f.Router.Route(RouterFixture.Request());
            Assert.True(d.HasTarget);
            d.Lease.Complete(new RouteOutcome(false, 0.01, 0));
        }

        var explanation = new RouteExplanation();
        _f.Router.Route(RouterFixture.Request(), explanation).Lease.Dispose();
        Assert.Equal(1, explanation.Candidates.Count(c => c.FilteredBy == RouteFilterNames.Ejection));

        // With a single node nothing can be ejected.
        using var single = new RouterFixture();
        single.Add(single.Node("only"));
        for (int i = 0; i < 20; i++)
        {
            RouteDecision d = single.Router.Route(RouterFixture.Request());
            Assert.Equal("only", d.TargetId);
            d.Lease.Complete(new RouteOutcome(false, 0.01, 0));
        }
    }

    [Fact]
    public void A_node_that_fails_fast_does_not_look_cheap()
    {
        // "fast" is the cheapest on paper but answers errors in 10 ms; its failure rate must price it out.
        _f.Add(_f.Node("fast", cpu: 0.1), _f.Node("steady", cpu: 0.15), _f.Node("third", cpu: 0.5));
        RouteDecision first = _f.Router.Route(RouterFixture.Request());
        Assert.Equal("fast", first.TargetId);
        first.Lease.Complete(new RouteOutcome(false, 0.01, 0));

        var explanation = new RouteExplanation();
        RouteDecision next = _f.Router.Route(RouterFixture.Request(), explanation);

        Assert.Equal("steady", next.TargetId);
        CandidateExplanation fast = explanation.Candidates.Single(c => c.TargetId == "fast");
        // One failure against the one assumed success: half its requests are expected to fail, so it costs twice.
        Assert.Equal(0.5, fast.FailureRate, 9);
        Assert.Equal(fast.Cost.TotalDollars * 2, fast.AdjustedTotalDollars, 9);
        next.Lease.Complete(new RouteOutcome(true, next.Cost.LatencySeconds, 200)); // as priced: it teaches no other speed

        // The failure fades with time (FailureMemory 60 s), so the node is tried again rather than starved.
        _f.Time.Advance(TimeSpan.FromMinutes(5));
        _f.Add(_f.Node("fast", cpu: 0.1, version: 2), _f.Node("steady", cpu: 0.15, version: 2), _f.Node("third", cpu: 0.5, version: 2));
        Assert.Equal("fast", _f.Router.Route(RouterFixture.Request()).TargetId);
    }

    [Fact]
    public void A_failure_cost_prices_each_expected_failure_at_the_requests_value_of_time()
    {
        // The fast-failing node of the test above, with a failure costing 30 s beyond its retry: at a
        // failure rate of one half, one failure is expected before a success, so it costs twice its
        // total plus 30 s at the request's value of time; the fast path prices it alike.
        using var f = new RouterFixture(o => o.FailureCost = TimeSpan.FromSeconds(30));
        f.Add(f.Node("fast", cpu: 0.1), f.Node("steady", cpu: 0.15));
        RouteDecision first = f.Router.Route(RouterFixture.Request());
        Assert.Equal("fast", first.TargetId);
        first.Lease.Complete(new RouteOutcome(false, 0.01, 0));

        var explanation = new RouteExplanation();
        RouteDecision next = f.Router.Route(RouterFixture.Request(), explanation);
        CandidateExplanation fast = explanation.Candidates.Single(c => c.TargetId == "fast");
        Assert.Equal(0.5, fast.FailureRate, 9);
        Assert.Equal((fast.Cost.TotalDollars * 2) + (30 * fast.Cost.ValueOfTimeDollarsPerSecond), fast.AdjustedTotalDollars, 9);
        Assert.True(fast.Cost.ValueOfTimeDollarsPerSecond > 0);
        next.Lease.Dispose();

        // 200 s on, the failure has faded to a rate of about 0.034: with the default (0) the idle node,
        // 5 % cheaper than "steady" on paper, is tried again; at 30 s a failure the same rate still
        // adds 1 s of the request's value of time and keeps it off: the two settings decide apart.
        using var retries = new RouterFixture();
        retries.Add(retries.Node("fast", cpu: 0.1), retries.Node("steady", cpu: 0.15));
        retries.Router.Route(RouterFixture.Request()).Lease.Complete(new RouteOutcome(false, 0.01, 0));
        foreach (RouterFixture fixture in new[] { f, retries })
        {
            fixture.Time.Advance(TimeSpan.FromSeconds(200));
            fixture.Add(fixture.Node("fast", cpu: 0.1, version: 2), fixture.Node("steady", cpu: 0.15, version: 2));
        }

        Assert.Equal("fast", retries.Router.Route(RouterFixture.Request()).TargetId);
        Assert.Equal("steady", f.Router.Route(RouterFixture.Request()).TargetId);
    }

    [Theory]
    [InlineData(60, 0.6, 1.0)] // the default memory: sparse failures add up
    [InlineData(10, 0.0, 0.3)] // a latency-like 10 s memory forgets them between requests
    public void Failures_twenty_seconds_apart_are_remembered_for_the_failure_memory(int memorySeconds, double atLeast, double atMost)
    {
        using var f = new RouterFixture(o => o.FailureMemory = TimeSpan.FromSeconds(memorySeconds));
        for (int i = 0; i < 3; i++)
        {
            f.Add(f.Node("only", version: i + 1));
            RouteDecision d = f.Router.Route(RouterFixture.Request());
            Assert.Equal("only", d.TargetId);
            d.Lease.Complete(new RouteOutcome(false, 0.01, 0));
            f.Time.Advance(TimeSpan.FromSeconds(20));
        }

        var explanation = new RouteExplanation();
        f.Add(f.Node("only", version: 4));
        f.Router.Route(RouterFixture.Request(), explanation).Lease.Dispose();

        // 60 s: failures 1 + e^-1/3 + e^-2/3 = 2.23, faded once more: 1.60 / (1.60 + 1) = 0.62.
        Assert.InRange(explanation.Candidates.Single().FailureRate, atLeast, atMost);
    }

    [Fact]
    public void Panic_mode_when_soft_filters_leave_nothing()
    {
        _f.Add(_f.Node("a", liveness: NodeLiveness.Suspect), _f.Node("b", liveness: NodeLiveness.Suspect), _f.Node("dead", liveness: NodeLiveness.Dead));
        var explanation = new RouteExplanation();

        RouteDecision d = _f.Router.Route(RouterFixture.Request(), explanation);

        Assert.True(d.Flags.HasFlag(RouteNotes.Panic));
        Assert.Contains(d.TargetId, new[] { "a", "b" });
        Assert.Contains("panic", explanation.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Hard_filters_are_respected_even_in_panic()
    {
        _f.Add(_f.Node("dead", liveness: NodeLiveness.Dead));

        RouteDecision d = _f.Router.Route(RouterFixture.Request());

        Assert.False(d.HasTarget);
        Assert.True(d.Flags.HasFlag(RouteNotes.NoRoute));
        d.Lease.Dispose();
    }

    [Fact]
    public void Battery_below_reserve_is_avoided_and_the_explanation_says_why()
    {
        _f.Add(_f.Node("laptop", cpu: 0.0, batteryPercent: 5), _f.Node("desktop", cpu: 0.6));
        var explanation = new RouteExplanation();

        RouteDecision d = _f.Router.Route(RouterFixture.Request(), explanation);

        Assert.Equal("desktop", d.TargetId);
        CandidateExplanation laptop = explanation.Candidates.Single(c => c.TargetId == "laptop");
        Assert.Equal(RouteFilterNames.CostConstraints, laptop.FilteredBy);
        Assert.True(laptop.Soft);
        string text = explanation.ToString();
        Assert.Contains("battery at or below its reserve floor", text, StringComparison.Ordinal);
        Assert.Contains("energy", text, StringComparison.Ordinal);
        Assert.Contains("desktop", d.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_draining_laptop_is_refused_when_its_trend_reaches_the_floor_within_the_look_ahead_without_a_new_report()
    {
        // 10.6 % falling 60 %/h: at the 10 % floor 36 s after its reading, so refused from 6 s on
        // (BatteryReserveLookAhead 30 s). Its snapshot never changes; the prepared terms must expire.
        MeshNode laptop = _f.Node("laptop", cpu: 0.0, batteryPercent: 10.6);
        laptop = new MeshNode(laptop.Factors with { Trends = new TrendFactors { BatteryPercentPerHour = Reading.Estimated(-60.0, _f.Time.GetUtcNow(), "test") } }, laptop.Capabilities);
        _f.Add(laptop, _f.Node("desktop", cpu: 0.6));

        // Priced (its scarcity near the floor is high), not refused.
        var explanation = new RouteExplanation();
        _f.Router.Route(RouterFixture.Request(), explanation).Lease.Dispose();
        Assert.Null(explanation.Candidates.Single(c => c.TargetId == "laptop").FilteredBy);

        _f.Time.Advance(TimeSpan.FromSeconds(6));
        _f.Router.Route(RouterFixture.Request(), explanation).Lease.Dispose();

        CandidateExplanation refused = explanation.Candidates.Single(c => c.TargetId == "laptop");
        Assert.Equal(RouteFilterNames.CostConstraints, refused.FilteredBy);
        Assert.True(refused.Soft);

        // The same one tick before the refusal, through the fast path (no explanation) too: a fresh
        // router on the same view prices it then, and refuses it from the instant on.
        using var early = new RouterFixture();
        early.Add(laptop, early.Node("desktop", cpu: 0.99));
        early.Time.Advance(TimeSpan.FromSeconds(6) - TimeSpan.FromTicks(1));
        RouteDecision beforeRefusal = early.Router.Route(RouterFixture.Request());
        beforeRefusal.Lease.Dispose();
        early.Time.Advance(TimeSpan.FromTicks(1));
        RouteDecision atRefusal = early.Router.Route(RouterFixture.Request());
        atRefusal.Lease.Dispose();
        Assert.Equal("laptop", beforeRefusal.TargetId);
        Assert.Equal("desktop", atRefusal.TargetId);
    }

    [Fact]
    public void Context_too_long_is_a_hard_filter()
    {
        _f.Add(_f.Node("a"));
        RouteDecision d = _f.Router.Route(new RequestProfile(RouterFixture.Model) { InputTokens = 9_000, OutputTokens = 100 });
        Assert.False(d.HasTarget);
    }

    [Fact]
    public void Concurrent_routing_completing_and_view_updates_end_with_zero_counts()
    {
        for (int i = 0; i < 8; i++)
        {
            _f.Add(_f.Node($"n{i}"));
        }

        Exception? failure = null;
        using var stop = new CancellationTokenSource();
        var updater = new Thread(() =>
        {
            long version = 2;
            while (!stop.IsCancellationRequested)
            {
                _f.View.Upsert(_f.Node($"n{version % 8}", cpu: (version % 10) / 10.0, version: version));
                version++;
            }
        });
        updater.Start();
        var workers = Enumerable.Range(0, 4).Select(w => new Thread(() =>
        {
            try
            {
                var explanation = new RouteExplanation();
                for (int i = 0; i < 2_000; i++)
                {
                    RouteDecision d = _f.Router.Route(RouterFixture.Request(i % 3 == 0 ? $"k{w}-{i % 50}" : null), i % 10 == 0 ? explanation : null);
                    if (i % 7 == 0)
                    {
                        d.Lease.Dispose();
                    }
                    else
                    {
                        d.Lease.Complete(new RouteOutcome(i % 13 != 0, 0.5, 50));
                    }
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        stop.Cancel();
        updater.Join();

        Assert.Null(failure);
        Assert.Equal(0, _f.Router.ActiveLeases);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(0, _f.Router.InFlight($"n{i}"));
        }
    }
}
