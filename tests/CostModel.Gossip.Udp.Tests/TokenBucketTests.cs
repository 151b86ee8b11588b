using Microsoft.Extensions.Time.Testing;

namespace CostModel.Gossip.Udp.Tests;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void It_starts_full_gives_the_burst_then_refills_at_the_rate()
    {
        var bucket = new TokenBucket(new UdpRateLimit(Burst: 3, PerSecond: 2), _time);

        Assert.True(bucket.TryTake(1));
        Assert.True(bucket.TryTake(2));
        Assert.False(bucket.TryTake(1));

        _time.Advance(TimeSpan.FromMilliseconds(499)); // 0.998 tokens
        Assert.False(bucket.TryTake(1));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.TryTake(1));
        Assert.False(bucket.TryTake(1));
    }

    [Fact]
    public void It_never_holds_more_than_the_burst()
    {
        var bucket = new TokenBucket(new UdpRateLimit(Burst: 2, PerSecond: 100), _time);

        _time.Advance(TimeSpan.FromHours(1));

        Assert.True(bucket.IsFull());
        Assert.True(bucket.TryTake(2));
        Assert.False(bucket.TryTake(0.5));
    }

    [Fact]
    public void A_refused_take_costs_nothing_and_a_return_is_capped_at_the_burst()
    {
        var bucket = new TokenBucket(new UdpRateLimit(Burst: 1_400, PerSecond: 1), _time);

        Assert.True(bucket.TryTake(1_000));
        Assert.False(bucket.TryTake(401)); // 400 left: refused whole, not in part
        Assert.True(bucket.TryTake(400));
        Assert.False(bucket.IsFull());

        bucket.Return(5_000);
        Assert.True(bucket.IsFull());
        Assert.False(bucket.TryTake(1_401));
    }
}
