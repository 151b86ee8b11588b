using CostModel.Routing;

namespace CostModel.Tests.Routing;

/// <summary>Where a request's size falls among a router's recent ones, by work (<see cref="WorkSizes"/>).</summary>
public sealed class WorkSizesTests
{
    [Fact]
    public void With_nothing_kept_a_request_may_fall_anywhere()
    {
        Assert.Equal((0.0, 1.0), new WorkSizes().Place(7));
    }

    [Fact]
    public void The_place_runs_from_the_share_of_the_work_in_larger_requests_over_the_share_in_equal_ones_and_its_own()
    {
        var sizes = new WorkSizes();
        for (int i = 0; i < 4; i++)
        {
            sizes.Place(1);
        }

        // Larger than all: from 0 over its own 4 of 8.
        (double low, double width) = sizes.Place(4);
        Assert.Equal((0.0, 0.5), (low, width));

        // Among 1, 1, 1, 1, 4: from the 4 of 9 over the four 1s and itself, 5 of 9.
        (low, width) = sizes.Place(1);
        Assert.Equal(4 / 9.0, low, 12);
        Assert.Equal(5 / 9.0, width, 12);
    }

    [Fact]
    public void By_work_a_few_large_requests_take_the_range_that_by_count_the_many_small_ones_would()
    {
        // Nine requests of 1 s and one of 9 s: by count the 1 s requests hold nine tenths of the
        // range, by work only the second half (the 9 s request holds the first).
        var sizes = new WorkSizes();
        sizes.Place(9);
        for (int i = 0; i < 9; i++)
        {
            sizes.Place(1);
        }

        (double low, double width) = sizes.Place(1);
        Assert.Equal(9 / 19.0, low, 12);
        Assert.Equal(10 / 19.0, width, 12);
    }

    [Fact]
    public void The_oldest_size_leaves_when_the_ring_is_full()
    {
        var sizes = new WorkSizes();
        sizes.Place(1_000);
        for (int i = 0; i < WorkSizes.Capacity; i++)
        {
            sizes.Place(1);
        }

        // The 1,000 s request is gone: a 1 s request is among equals only.
        Assert.Equal(WorkSizes.Capacity, sizes.Count);
        Assert.Equal((0.0, 1.0), sizes.Place(1));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_size_that_is_no_positive_finite_number_may_fall_anywhere_and_is_not_kept(double work)
    {
        var sizes = new WorkSizes();
        sizes.Place(2);
        Assert.Equal((0.0, 1.0), sizes.Place(work));
        Assert.Equal(1, sizes.Count);

        // 0 over 4 of 6: the stray value kept would have changed it (or made it NaN).
        (double low, double width) = sizes.Place(4);
        Assert.Equal(0, low);
        Assert.Equal(4 / 6.0, width, 12);
    }
}
