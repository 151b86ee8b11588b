namespace CostModel.Mesh;

/// <summary>
/// Grows the per-peer tables (the view's and the gossip adapter's id dictionaries) by a quarter
/// instead of doubling them. A dictionary doubles to the next of its primes: a view of 1,000 nodes
/// grew from 919 places to 1,931, half of them empty, 28 bytes each; in a simulated 1,000-node mesh
/// (two such tables per node) that was some 50 MB of the run's 840 MB. By a quarter a table is at
/// least four fifths full after it grows, for about four times the copying while it grows (a mesh
/// grows once).
/// </summary>
internal static class PeerTableGrowth
{
    /// <summary>
    /// 1/4: the share by which a full table grows (room for a quarter more entries than it holds).
    /// </summary>
    public const int GrowthDivisor = 4;

    /// <summary>16 entries: the least a table grows by (a small mesh grows in few steps).</summary>
    public const int MinGrowth = 16;

    /// <summary>Adds an entry, growing <paramref name="table"/> by a quarter first when it is full (<see cref="Dictionary{TKey, TValue}.Add"/> otherwise).</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="table">The table.</param>
    /// <param name="key">The key, not yet in the table.</param>
    /// <param name="value">The value.</param>
    public static void Add<TKey, TValue>(Dictionary<TKey, TValue> table, TKey key, TValue value)
        where TKey : notnull
    {
        BeforeAdd(table);
        table.Add(key, value);
    }

    /// <summary>Makes room for one more entry, growing <paramref name="table"/> by a quarter when it is full.</summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="table">The table about to take an entry.</param>
    public static void BeforeAdd<TKey, TValue>(Dictionary<TKey, TValue> table)
        where TKey : notnull
    {
        if (table.Count >= table.Capacity)
        {
            table.EnsureCapacity(table.Count + Math.Max(table.Count / GrowthDivisor, MinGrowth));
        }
    }
}
