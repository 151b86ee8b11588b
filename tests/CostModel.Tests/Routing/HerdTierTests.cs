using CostModel.Scoring;
using CostModel.Routing;

namespace CostModel.Tests.Routing;

/// <summary>
/// A router's herd draws sorted by size (<see cref="HerdSpread.Draw"/> with <see cref="WorkSizes"/>):
/// its large requests to the fast nodes, its small ones to the slow (docs/routing.md, "Sorting the herd by size").
/// </summary>
public sealed class HerdTierTests
{
    private static RequestProfile Large() => new(RouterFixture.Model) { InputTokens = 2_000, OutputTokens = 400, PayloadBytes = 4_000 };

    private static RequestProfile Small() => new(RouterFixture.Model) { InputTokens = 200, OutputTokens = 50, PayloadBytes = 4_000 };

    [Fact]
    public void A_busy_gateway_sends_its_large_requests_to_the_fast_nodes_and_its_small_ones_to_the_slow()
    {
        // Two requests a second, large and small in turn, over 4 fast nodes and 26 slow one-slot
        // machines, the others reporting 120 requests a second: every decision draws from the herd's
        // allocation. A large request holds nine tenths of the work (place about 0.45), a small one
        // the rest (about 0.95): the large ones take the fast tier's share, the small the slow's.
        using var f = new RouterFixture();
        for (int i = 0; i < 30; i++)
        {
            f.Add(i < 4 ? f.Node($"fast-{i}", decode: 60, slots: 4, routed: 4) : f.Node($"slow-{i}", decode: 12, slots: 1, routed: 4));
        }

        int largeSlow = 0;
        int smallSlow = 0;
        int draws = 0;
        for (int i = 0; i < 240; i++)
        {
            bool large = i % 2 == 0;
            RouteDecision d = f.Router.Route(large ? Large() : Small());
            d.Lease.Dispose();
            f.Time.Advance(TimeSpan.FromMilliseconds(500));
            if (i >= 120)
            {
                bool slow = d.TargetId!.StartsWith("slow-", StringComparison.Ordinal);
                largeSlow += large && slow ? 1 : 0;
                smallSlow += !large && slow ? 1 : 0;
                draws += d.Flags.HasFlag(RouteNotes.HerdDraw) ? 1 : 0;
            }
        }

        Assert.True(draws > 60, $"{draws} of 120 decisions drew from the herd");
        Assert.Equal(0, largeSlow);
        Assert.True(smallSlow >= 54, $"{smallSlow} of 60 small requests went to a slow machine");
    }
}
