using CostModel.Budgets;
using CostModel.Routing;
using CostModel.Scoring;
using CostModel.Tests.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Tests.Budgets;

/// <summary>The router reserves a paid request's predicted cost when it places it and settles it when the lease ends.</summary>
public sealed class SpendReservationRouterTests
{
    // 1,000 prompt tokens at 2.5 $/M plus 1,000 output tokens at 10 $/M (the bundled price of gpt-4o).
    private const double RequestDollars = 0.0125;

    // Room for four such requests (0.05 $) with a margin for rounding, not for a fifth.
    private const double CapDollars = 0.051;

    private static readonly RequestProfile Paid = new("gpt-4o") { InputTokens = 1_000, OutputTokens = 1_000 };

    private static RouterFixture Fixture(Action<RoutingOptions>? configure = null) => new(
        o =>
        {
            o.ApiEndpoints.Add(new ApiEndpoint { Id = "api", Model = "gpt-4o" });
            configure?.Invoke(o);
        },
        budgets: b => b.SpendCaps.Add(new SpendCap { Name = "daily", MaxDollars = CapDollars }));

    private static SpendTracker Tracker(RouterFixture f) => f.Services.GetRequiredService<SpendTracker>();

    [Fact]
    public void Paid_requests_in_flight_hold_their_predicted_cost_against_the_cap()
    {
        using RouterFixture f = Fixture();

        RouteDecision[] decisions = [.. Enumerable.Range(0, 20).Select(_ => f.Router.Route(Paid))];

        Assert.Equal(4, decisions.Count(d => d.HasTarget));
        Assert.Equal(4 * RequestDollars, Tracker(f).ReservedDollars(SpendScope.Api), 12);
        Assert.Equal(0, Tracker(f).Status()[0].SpentDollars);
    }

    [Fact]
    public void Completed_requests_move_from_reserved_to_spent_and_the_cap_holds()
    {
        using RouterFixture f = Fixture();
        var placed = new List<RouteDecision>();
        for (int i = 0; i < 20; i++)
        {
            RouteDecision d = f.Router.Route(Paid);
            if (d.HasTarget)
            {
                placed.Add(d);
            }

            // Every other request completes before the next arrives: completions and placements interleave.
            if (i % 2 == 1 && placed.Count > 0)
            {
                placed[0].Lease.Complete(new RouteOutcome(true, 2, 1_000));
                placed.RemoveAt(0);
            }
        }

        double spent = Tracker(f).Status()[0].SpentDollars;
        Assert.Equal(0, Tracker(f).ReservedDollars(SpendScope.Api) - (placed.Count * RequestDollars), 12);
        Assert.True(spent + Tracker(f).ReservedDollars(SpendScope.Api) <= CapDollars, $"spent {spent} $ + reserved over the cap");
        Assert.Equal(4 * RequestDollars, spent + Tracker(f).ReservedDollars(SpendScope.Api), 12);
    }

    [Fact]
    public void A_request_that_generates_more_than_predicted_is_billed_what_it_generated_and_overruns_by_that_error_at_most()
    {
        using RouterFixture f = Fixture();
        RouteDecision[] first = [.. Enumerable.Range(0, 4).Select(_ => f.Router.Route(Paid))];
        Assert.All(first, d => Assert.True(d.HasTarget));

        // One of the four generated 1,500 tokens instead of 1,000: 0.005 $ more than reserved.
        first[0].Lease.Complete(new RouteOutcome(true, 2, 2_500));
        foreach (RouteDecision d in first.Skip(1))
        {
            d.Lease.Complete(new RouteOutcome(true, 2, 1_000));
        }

        double spent = Tracker(f).Status()[0].SpentDollars;
        Assert.Equal((4 * RequestDollars) + 0.015, spent, 12);
        Assert.False(f.Router.Route(Paid).HasTarget);
        Assert.True(spent - CapDollars <= 0.015, "the overrun is at most the one request's prediction error");
    }

    [Fact]
    public void An_expired_lease_gives_its_reservation_back()
    {
        using RouterFixture f = Fixture();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(f.Router.Route(Paid).HasTarget);
        }

        Assert.False(f.Router.Route(Paid).HasTarget);

        f.Time.Advance(RoutingDefaults.LeaseTimeout + TimeSpan.FromMinutes(3));

        Assert.True(f.Router.Route(Paid).HasTarget);
        Assert.Equal(RequestDollars, Tracker(f).ReservedDollars(SpendScope.Api), 12);
        Assert.Equal(0, Tracker(f).Status()[0].SpentDollars);
    }

    [Fact]
    public void A_cancelled_or_failed_request_spends_nothing_and_frees_its_reservation()
    {
        using RouterFixture f = Fixture();
        RouteDecision cancelled = f.Router.Route(Paid);
        RouteDecision failed = f.Router.Route(Paid);

        cancelled.Lease.Dispose();
        failed.Lease.Complete(new RouteOutcome(false, 1, 0));

        Assert.Equal(0, Tracker(f).ReservedDollars(SpendScope.Api));
        Assert.Equal(0, Tracker(f).Status()[0].SpentDollars);
    }

    [Fact]
    public void Routing_threads_racing_for_the_last_room_never_pass_the_cap_together()
    {
        using RouterFixture f = Fixture();
        int placed = 0;

        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            if (f.Router.Route(Paid).HasTarget)
            {
                Interlocked.Increment(ref placed);
            }
        });

        Assert.Equal(4, placed);
        Assert.True(Tracker(f).ReservedDollars(SpendScope.Api) <= CapDollars);
    }

    [Fact]
    public void Requests_that_find_the_cap_full_go_to_the_next_cheapest_candidate_even_when_threads_race()
    {
        // The endpoint serves the node's model at gpt-4o's price; the node is slow enough that the
        // endpoint is cheaper while the cap has room.
        using var f = new RouterFixture(
            o => o.ApiEndpoints.Add(new ApiEndpoint { Id = "api", Model = RouterFixture.Model, PriceModel = "gpt-4o" }),
            budgets: b => b.SpendCaps.Add(new SpendCap { Name = "daily", MaxDollars = CapDollars }));
        f.Add(f.Node("slow-node", decode: 2));
        var request = new RequestProfile(RouterFixture.Model) { InputTokens = 1_000, OutputTokens = 1_000 };
        int toApi = 0;
        int toNode = 0;

        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            RouteDecision d = f.Router.Route(request);
            Interlocked.Increment(ref d.IsApiEndpoint ? ref toApi : ref toNode);
        });

        Assert.Equal(4, toApi);
        Assert.Equal(396, toNode);
    }
}
