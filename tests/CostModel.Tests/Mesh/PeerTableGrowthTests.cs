using CostModel.Mesh;

namespace CostModel.Tests.Mesh;

/// <summary>The per-peer id tables grow by a quarter, not by doubling.</summary>
public sealed class PeerTableGrowthTests
{
    [Fact]
    public void A_table_of_a_thousand_ids_is_at_least_four_fifths_full_where_doubling_left_it_half_empty()
    {
        var grown = new Dictionary<string, int>(StringComparer.Ordinal);
        var doubled = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < 1_000; i++)
        {
            string id = "node-" + i;
            PeerTableGrowth.BeforeAdd(grown);
            grown.Add(id, i);
            doubled.Add(id, i);
        }

        Assert.Equal(1_000, grown.Count);
        Assert.InRange(grown.Capacity, 1_000, 1_250);
        Assert.True(doubled.Capacity > 1_900, $"doubling gave {doubled.Capacity} places");
        Assert.All(Enumerable.Range(0, 1_000), i => Assert.Equal(i, grown["node-" + i]));
    }

    [Fact]
    public void A_table_with_room_is_left_as_it_is()
    {
        var table = new Dictionary<string, int>(100, StringComparer.Ordinal) { ["a"] = 1 };
        int capacity = table.Capacity;

        PeerTableGrowth.BeforeAdd(table);

        Assert.Equal(capacity, table.Capacity);
    }

    [Fact]
    public void A_small_table_grows_by_at_least_the_minimum()
    {
        var table = new Dictionary<string, int>(StringComparer.Ordinal);

        PeerTableGrowth.BeforeAdd(table);

        Assert.True(table.Capacity >= PeerTableGrowth.MinGrowth);
    }
}
