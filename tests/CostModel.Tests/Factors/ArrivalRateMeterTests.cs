using CostModel.Factors;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Factors;

public sealed class ArrivalRateMeterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_steady_rate_is_read_as_that_rate()
    {
        var time = new FakeTimeProvider(T0);
        var meter = new ArrivalRateMeter(time);
        for (int i = 0; i < 400; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            meter.Record();
        }

        Reading<double> rate = meter.Read();
        Assert.Equal(10, rate.Value, 0.6);
        Assert.Equal(SignalQuality.Estimated, rate.Quality);
        Assert.Equal(time.GetUtcNow(), rate.ObservedAt);
    }

    [Fact]
    public void A_burst_shows_within_a_time_constant_and_fades_after()
    {
        var time = new FakeTimeProvider(T0);
        var meter = new ArrivalRateMeter(time);
        Assert.Equal(0, meter.Read().Value);

        // 30 requests within one second.
        for (int i = 0; i < 30; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1000.0 / 30));
            meter.Record();
        }

        double during = meter.Read().Value;
        Assert.InRange(during, 8, 15);

        time.Advance(ArrivalRateMeter.DefaultTimeConstant * 5);
        Assert.True(meter.Read().Value < during * 0.01);
    }

    [Fact]
    public void A_clock_set_back_neither_grows_nor_loses_the_count()
    {
        var time = new SettableTime { Now = T0 };
        var meter = new ArrivalRateMeter(time);
        meter.Record();
        double before = meter.Read().Value;
        time.Now = T0 - TimeSpan.FromMinutes(1);
        Assert.Equal(before, meter.Read().Value);
    }

    // FakeTimeProvider refuses to go back; a host's wall clock may.
    private sealed class SettableTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void A_time_constant_out_of_range_is_refused()
    {
        var time = new FakeTimeProvider(T0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArrivalRateMeter(time, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArrivalRateMeter(time, TimeSpan.FromDays(1)));
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(PendingWork.MaxArrivalsPerSecond * 2)]
    public void Pending_work_refuses_an_absurd_arrival_rate(double rate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PendingWork { ArrivalsPerSecond = Reading.Measured(rate, T0, "host") });
    }
}
