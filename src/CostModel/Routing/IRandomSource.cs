namespace CostModel.Routing;

/// <summary>Randomness behind a seam, so tests can seed it. Must be thread-safe.</summary>
public interface IRandomSource
{
    /// <summary>A uniformly distributed integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <param name="maxExclusive">The exclusive upper bound, at least 1.</param>
    int NextInt(int maxExclusive);
}

/// <summary>The default: <see cref="Random.Shared"/> (thread-safe, unseeded).</summary>
internal sealed class SharedRandomSource : IRandomSource
{
    /// <inheritdoc />
    public int NextInt(int maxExclusive) => Random.Shared.Next(maxExclusive);
}

/// <summary>A seeded source for tests and simulations: deterministic for one thread, thread-safe by locking.</summary>
/// <param name="seed">The seed.</param>
public sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public int NextInt(int maxExclusive)
    {
        lock (_gate)
        {
            return _random.Next(maxExclusive);
        }
    }
}
