using CostModel.Factors;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests;

public sealed class ByteCounterRatesTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero));
    private readonly ByteCounterRates _rates = new();

    private (Reading<double> Receive, Reading<double> Transmit, string? Implausible) Next(ulong rx, ulong tx)
    {
        string? implausible = _rates.Next("eth0", rx, tx, _time.GetTimestamp(), _time, _time.GetUtcNow(), "test", out Reading<double> receive, out Reading<double> transmit);
        return (receive, transmit, implausible);
    }

    [Fact]
    public void The_first_sample_has_no_rate_and_the_second_has_the_bytes_over_the_seconds_between()
    {
        var first = Next(1_000, 500);
        Assert.Equal(ByteCounterRates.FirstSampleReason, first.Receive.Reason);
        Assert.Equal(SignalQuality.Unknown, first.Transmit.Quality);

        _time.Advance(TimeSpan.FromSeconds(2));
        var second = Next(5_000, 1_500);
        Assert.Equal(SignalQuality.Estimated, second.Receive.Quality);
        Assert.Equal(2_000, second.Receive.Value);
        Assert.Equal(500, second.Transmit.Value);
        Assert.Null(second.Implausible);
    }

    [Fact]
    public void No_time_elapsed_keeps_the_older_sample_so_the_next_pass_has_an_interval()
    {
        Next(1_000, 0);
        _time.Advance(TimeSpan.FromSeconds(1));
        Next(2_000, 0);
        Assert.Equal(ByteCounterRates.NoTimeElapsedReason, Next(2_500, 0).Receive.Reason);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1_000, Next(3_000, 0).Receive.Value);   // from the sample at 2,000, one second ago
    }

    [Fact]
    public void Counters_that_go_backwards_start_over_and_never_give_a_negative_rate()
    {
        Next(10_000, 10_000);
        _time.Advance(TimeSpan.FromSeconds(1));
        var reset = Next(100, 10_500);
        Assert.Equal(SignalQuality.Unknown, reset.Receive.Quality);
        Assert.Contains("went backwards", reset.Transmit.Reason, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(900, Next(1_000, 10_600).Receive.Value);
    }

    [Fact]
    public void A_rate_beyond_any_adapter_is_refused_and_said_so_for_the_caller_to_report()
    {
        Next(0, 0);
        _time.Advance(TimeSpan.FromSeconds(1));
        var glitch = Next(ulong.MaxValue / 2, 0);
        Assert.NotNull(glitch.Implausible);
        Assert.Equal(SignalQuality.Unknown, glitch.Receive.Quality);
        Assert.Equal(glitch.Implausible, glitch.Transmit.Reason);
    }

    [Fact]
    public void A_forgotten_sample_makes_the_next_one_a_first_sample()
    {
        Next(0, 0);
        _rates.Forget();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ByteCounterRates.FirstSampleReason, Next(100, 100).Receive.Reason);
        Assert.True(_rates.HasSample);
    }
}
