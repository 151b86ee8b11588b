using Microsoft.Extensions.Time.Testing;

namespace CostModel.Gossip.Udp.Tests;

public sealed class LogThrottleTests
{
    [Fact]
    public void The_first_lines_pass_then_one_a_second_with_the_count_of_those_not_logged()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(time);

        for (int i = 0; i < LogThrottle.Burst; i++)
        {
            Assert.True(throttle.ShouldLog(out long none));
            Assert.Equal(0, none);
        }

        for (int i = 0; i < 1_000; i++)
        {
            Assert.False(throttle.ShouldLog(out _));
        }

        time.Advance(TimeSpan.FromSeconds(1 / LogThrottle.PerSecond));
        Assert.True(throttle.ShouldLog(out long unlogged));
        Assert.Equal(1_000, unlogged);
        Assert.False(throttle.ShouldLog(out _));
    }
}
