using CostModel.Mesh;
using CostModel.Routing;

namespace CostModel.Tests.Routing;

/// <summary>
/// The router's fast path keeps parts of the built-in filters' tests per view (docs/routing.md,
/// "Fast path"): the context limit and the liveness standing and stale-after instant. Each kept form
/// must give the filter's own answer for every input, the extremes included.
/// </summary>
public sealed class FilterTestSplitTests
{
    private static readonly long[] Ticks = [0, 1, 10_000_000, 638_000_000_000_000_000, long.MaxValue - 1, long.MaxValue];

    [Fact]
    public void Stale_after_agrees_with_the_age_test_at_every_instant()
    {
        var ages = new long[] { 0, 1, TimeSpan.FromMinutes(2).Ticks, long.MaxValue - 1, long.MaxValue };
        foreach (bool local in new[] { false, true })
        {
            foreach (NodeLiveness liveness in Enum.GetValues<NodeLiveness>())
            {
                int standing = LivenessFilter.Standing(local, liveness);
                foreach (long captured in Ticks)
                {
                    foreach (long age in ages)
                    {
                        long staleAfter = LivenessFilter.StaleAfter(standing, captured, age);
                        foreach (long now in Ticks.Concat([captured, captured + Math.Min(age, long.MaxValue - captured), Math.Max(captured, (captured / 2) + (age / 2))]))
                        {
                            // Ticks are never negative, so now - captured cannot overflow (a snapshot from the future is fresh).
                            bool stale = LivenessFilter.Classify(standing, captured, now, age) == LivenessFilter.Stale;
                            Assert.True(stale == (now > staleAfter), $"local {local}, {liveness}, captured {captured}, age {age}, now {now}: stale {stale}, stale after {staleAfter}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void The_context_limit_agrees_with_the_context_test()
    {
        foreach (int? context in new int?[] { null, 0, 1, 4_096, int.MaxValue })
        {
            foreach (long tokens in new long[] { 0, 1, 4_096, 4_097, int.MaxValue, (long)int.MaxValue + 1, long.MaxValue })
            {
                bool exceeds = context is { } c && tokens > c;
                Assert.Equal(exceeds, ContextLengthFilter.Exceeds(context, tokens));
                Assert.Equal(exceeds, ContextLengthFilter.ExceedsLimit(ContextLengthFilter.Limit(context), tokens));
            }
        }
    }
}
