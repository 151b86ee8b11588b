using CostModel.Mesh;
using CostModel.Routing;

namespace CostModel.Tests.Routing;

public sealed class RouterStickinessTests : IDisposable
{
    private readonly RouterFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Costs_alternating_by_five_percent_switch_an_affinity_key_at_most_once_in_100_decisions()
    {
        int switches = 0;
        string? last = null;
        for (int second = 0; second < 100; second++)
        {
            // Every second the two nodes trade places by about 5 % of cost.
            bool aCheaper = second % 2 == 0;
            _f.Add(_f.Node("a", cpu: aCheaper ? 0.30 : 0.33, version: second + 1), _f.Node("b", cpu: aCheaper ? 0.33 : 0.30, version: second + 1));
            _f.Time.Advance(TimeSpan.FromSeconds(1));

            RouteDecision d = _f.Router.Route(RouterFixture.Request("conversation-1"));
            d.Lease.Complete(new RouteOutcome(true, 10, 200));
            if (last is not null && d.TargetId != last)
            {
                switches++;
            }

            last = d.TargetId;
        }

        Assert.True(switches <= 1, $"{switches} switches");
    }

    [Fact]
    public void A_thirty_percent_gap_switches_at_once()
    {
        _f.Add(_f.Node("a", cpu: 0.2), _f.Node("b", cpu: 0.4));
        RouteDecision first = _f.Router.Route(RouterFixture.Request("c"));
        first.Lease.Dispose();
        Assert.Equal("a", first.TargetId);

        _f.Add(_f.Node("a", cpu: 0.6, version: 2), _f.Node("b", cpu: 0.2, version: 2));
        RouteDecision second = _f.Router.Route(RouterFixture.Request("c"));

        Assert.Equal("b", second.TargetId);
        Assert.True(second.Flags.HasFlag(RouteNotes.Switched));
    }

    [Fact]
    public void Within_the_band_the_incumbent_is_kept_and_says_so()
    {
        _f.Add(_f.Node("a", cpu: 0.2), _f.Node("b", cpu: 0.3));
        Assert.Equal("a", _f.Router.Route(RouterFixture.Request("c")).TargetId);

        _f.Add(_f.Node("a", cpu: 0.3, version: 2), _f.Node("b", cpu: 0.25, version: 2));
        RouteDecision kept = _f.Router.Route(RouterFixture.Request("c"));

        Assert.Equal("a", kept.TargetId);
        Assert.True(kept.Flags.HasFlag(RouteNotes.StickyKept));
    }

    [Fact]
    public void Stickiness_breaks_when_the_incumbent_dies()
    {
        _f.Add(_f.Node("a", cpu: 0.1), _f.Node("b", cpu: 0.3));
        Assert.Equal("a", _f.Router.Route(RouterFixture.Request("c")).TargetId);

        _f.Add(_f.Node("a", cpu: 0.1, version: 2, liveness: NodeLiveness.Dead));
        RouteDecision d = _f.Router.Route(RouterFixture.Request("c"));

        Assert.Equal("b", d.TargetId);
        Assert.True(d.Flags.HasFlag(RouteNotes.StickinessBroken));
    }

    [Fact]
    public void Stickiness_breaks_when_the_incumbent_is_ejected()
    {
        _f.Add(_f.Node("a", cpu: 0.1), _f.Node("b", cpu: 0.3), _f.Node("c", cpu: 0.35));
        for (int i = 0; i < 5; i++)
        {
            if (i > 0)
            {
                // Failures ten minutes apart: the failure rate fades (FailureMemory 60 s), the consecutive count does not.
                _f.Time.Advance(TimeSpan.FromMinutes(10));
                _f.Add(_f.Node("a", cpu: 0.1, version: i + 2), _f.Node("b", cpu: 0.3, version: i + 2), _f.Node("c", cpu: 0.35, version: i + 2));
            }

            RouteDecision d = _f.Router.Route(RouterFixture.Request("k"));
            Assert.Equal("a", d.TargetId);
            d.Lease.Complete(new RouteOutcome(false, 0.01, 0));
        }

        RouteDecision after = _f.Router.Route(RouterFixture.Request("k"));

        Assert.NotEqual("a", after.TargetId);
        Assert.True(after.Flags.HasFlag(RouteNotes.StickinessBroken));
    }

    [Fact]
    public void The_affinity_table_stays_within_its_bound()
    {
        using var f = new RouterFixture(o => o.MaxAffinityKeys = 10);
        f.Add(f.Node("a"));

        for (int i = 0; i < 50; i++)
        {
            f.Router.Route(RouterFixture.Request($"key-{i}")).Lease.Dispose();
        }

        Assert.True(f.Internal.AffinityKeys <= 10);

        // Expired keys make room again.
        f.Time.Advance(TimeSpan.FromHours(1));
        f.Router.Route(RouterFixture.Request("fresh")).Lease.Dispose();
        Assert.True(f.Internal.AffinityKeys <= 10);
    }
}
