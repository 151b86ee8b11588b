using Microsoft.Extensions.Time.Testing;

namespace CostModel.Simulation.Tests;

public sealed class MemoryBudgetTests
{
    [Fact]
    public void No_budget_starts_nothing_and_a_negative_one_is_refused()
    {
        Assert.Null(MemoryBudget.Start(0, new FakeTimeProvider()));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryBudget.Start(-1, new FakeTimeProvider()));
    }

    [Fact]
    public void A_process_over_its_budget_is_collected_at_each_check_and_one_under_it_never()
    {
        var time = new FakeTimeProvider();

        // This test process is far above 1 MiB and far below 1 TiB of resident memory.
        using MemoryBudget over = MemoryBudget.Start(1, time)!;
        using MemoryBudget under = MemoryBudget.Start(1 << 20, time)!;
        int collectionsBefore = GC.CollectionCount(GC.MaxGeneration);

        time.Advance(MemoryBudget.CheckInterval - TimeSpan.FromTicks(1));
        Assert.Equal(0, over.Collections);

        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, over.Collections);
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > collectionsBefore);

        // The fake clock stood still during the collection (it took no time by it), so the next
        // check may collect again at once.
        time.Advance(MemoryBudget.CheckInterval);
        Assert.Equal(2, over.Collections);
        Assert.Equal(0, under.Collections);
    }

    [Fact]
    public void After_a_collection_the_next_waits_three_times_as_long_as_it_took()
    {
        Assert.Equal(1_000 + (3 * 400), MemoryBudget.NextAllowed(600, 1_000));
        Assert.Equal(1_000, MemoryBudget.NextAllowed(1_000, 1_000));
    }
}
