using CostModel.Factors;

namespace CostModel.Tests.Factors;

public sealed class ReadingTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Default_reading_is_unknown_and_never_reads_as_zero()
    {
        Reading<double> reading = default;

        Assert.Equal(SignalQuality.Unknown, reading.Quality);
        Assert.False(reading.HasValue);
        Assert.Equal("not collected", reading.Reason);
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => reading.Value);
        Assert.Contains("not collected", error.Message, StringComparison.Ordinal);
        Assert.False(reading.TryGetValue(out _));
        Assert.Equal(42.0, reading.GetValueOrDefault(42.0));
    }

    [Fact]
    public void Equality_compares_what_a_reader_sees_the_default_reason_included()
    {
        Reading<double> unset = default;
        Reading<double> saidSo = Reading.Unknown<double>("not collected");

        // Same quality, time and reason as read: equal, with equal hashes.
        Assert.Equal(unset, saidSo);
        Assert.Equal(unset.GetHashCode(), saidSo.GetHashCode());

        // Another reason, time or quality still tells them apart.
        Assert.NotEqual(unset, Reading.Unknown<double>("probe failed"));
        Assert.NotEqual(unset, Reading.Unknown<double>("not collected", At));
        Assert.NotEqual(unset, Reading.NotSupported<double>("not collected"));
    }

    [Fact]
    public void Not_supported_keeps_its_reason_and_has_no_value()
    {
        Reading<double> reading = Reading.NotSupported<double>("no system battery", At);

        Assert.Equal(SignalQuality.NotSupported, reading.Quality);
        Assert.Equal("no system battery", reading.Reason);
        Assert.Null(reading.Source);
        Assert.Equal(At, reading.ObservedAt);
        Assert.Throws<InvalidOperationException>(() => reading.Value);
    }

    [Fact]
    public void Measured_keeps_value_time_and_source()
    {
        Reading<double> reading = Reading.Measured(0.25, At, "/proc/stat");

        Assert.True(reading.HasValue);
        Assert.Equal(0.25, reading.Value);
        Assert.Equal(At, reading.ObservedAt);
        Assert.Equal("/proc/stat", reading.Source);
        Assert.Null(reading.Reason);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_numbers_are_rejected_with_a_clear_error(double value)
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => Reading.Measured(value, At, "x"));
        Assert.Contains("finite", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Reading.Estimated(value, At, "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Reading.Overridden(value, At, "x"));
    }

    [Fact]
    public void Unknown_requires_a_reason()
    {
        Assert.Throws<ArgumentException>(() => Reading.Unknown<double>(" "));
        Assert.Throws<ArgumentNullException>(() => Reading.NotSupported<double>(null!));
    }

    [Fact]
    public void Stale_reading_becomes_unknown_with_its_age()
    {
        Reading<double> reading = Reading.Measured(80.0, At, "/sys/class/power_supply/BAT0");

        Assert.Equal(reading, reading.FreshOrUnknown(At.AddSeconds(30), TimeSpan.FromSeconds(30)));
        Reading<double> stale = reading.FreshOrUnknown(At.AddSeconds(31), TimeSpan.FromSeconds(30));

        Assert.Equal(SignalQuality.Unknown, stale.Quality);
        Assert.Contains("stale", stale.Reason, StringComparison.Ordinal);
        Assert.Contains("31", stale.Reason, StringComparison.Ordinal);
        Assert.Equal(At, stale.ObservedAt);
    }

    [Fact]
    public void Select_maps_values_and_keeps_reasons()
    {
        Reading<double> percent = Reading.Measured(50.0, At, "capacity");
        Assert.Equal(0.5, percent.Select(p => p / 100).Value);
        Assert.Equal(SignalQuality.Measured, percent.Select(p => p / 100).Quality);

        Reading<double> unknown = Reading.Unknown<double>("EIO from the driver", At);
        Reading<double> mapped = unknown.Select(p => p / 100);
        Assert.False(mapped.HasValue);
        Assert.Equal("EIO from the driver", mapped.Reason);
    }

    [Fact]
    public void Equality_covers_quality_value_time_and_note()
    {
        Reading<double> a = Reading.Measured(1.0, At, "s");
        Assert.Equal(a, Reading.Measured(1.0, At, "s"));
        Assert.NotEqual(a, Reading.Measured(2.0, At, "s"));
        Assert.NotEqual(a, Reading.Estimated(1.0, At, "s"));
        Assert.NotEqual(a, Reading.Measured(1.0, At.AddTicks(1), "s"));
        Assert.True(a == Reading.Measured(1.0, At, "s"));
    }

    [Fact]
    public void Resource_limit_distinguishes_unlimited_from_a_value()
    {
        Assert.True(ResourceLimit.Unlimited.IsUnlimited);
        Assert.Equal(0.5, ResourceLimit.Of(0.5).Amount);
        Assert.Equal(ResourceLimit.Of(0.5), ResourceLimit.Of(2).Min(ResourceLimit.Of(0.5)));
        Assert.Equal(ResourceLimit.Of(2), ResourceLimit.Unlimited.Min(ResourceLimit.Of(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceLimit.Of(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceLimit.Of(double.PositiveInfinity));
    }
}
