using CostModel.Collection;
using CostModel.Factors;

namespace CostModel.Tests.Collection;

/// <summary>The trend fits over long windows: memory bounded, the span the fit needs kept.</summary>
public sealed class TrendEstimatorTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public void A_battery_window_of_hours_gives_its_trend_once_a_quarter_of_it_has_passed(int hours)
    {
        // One snapshot a second draining 10 % an hour. The fit needs samples over a quarter of its
        // window (90 min for 6 h); the estimator keeps at most 3,600 samples. Kept as the newest 3,600,
        // they spanned an hour and a window over 4 h never gave a trend; spread over the window they do.
        var estimator = new TrendEstimator(new CollectionOptions { BatteryTrendWindow = TimeSpan.FromHours(hours) });
        TimeSpan quarter = TimeSpan.FromHours(hours) * TrendEstimator.MinimumSpanShare;
        Reading<double> trend = default;
        for (int s = 0; s <= (int)quarter.TotalSeconds + 60; s++)
        {
            trend = estimator.Add(Snapshot(Start.AddSeconds(s), 90 - (s * 10.0 / 3600))).Trends.BatteryPercentPerHour;
            if (s == (int)quarter.TotalSeconds - 60)
            {
                Assert.False(trend.HasValue, $"a trend after {s} s of a {hours} h window: {trend}");
            }
        }

        Assert.True(trend.HasValue, trend.Reason);
        Assert.Equal(-10, trend.Value, 0.01);
    }

    [Fact]
    public void Hours_of_samples_at_one_a_second_keep_the_default_window_s_trend_exact()
    {
        // The default 5-minute window: every one-second sample is kept (its spacing is 1/12 s).
        var estimator = new TrendEstimator(new CollectionOptions());
        Reading<double> trend = default;
        for (int s = 0; s <= 2 * 3600; s++)
        {
            double percent = s < 3600 ? 90 - (s * 20.0 / 3600) : 70 - ((s - 3600) * 5.0 / 3600);
            trend = estimator.Add(Snapshot(Start.AddSeconds(s), percent)).Trends.BatteryPercentPerHour;
        }

        // Only the last five minutes count: the second hour's 5 %/h, not the first's 20.
        Assert.Equal(-5, trend.Value, 0.01);
    }

    private static NodeCostFactors Snapshot(DateTimeOffset at, double percent) => new("laptop", 1, 1, at)
    {
        Power = new PowerFactors
        {
            Source = Reading.Measured(PowerSource.Battery, at, "test"),
            ChargeState = Reading.Measured(ChargeState.Discharging, at, "test"),
            BatteryPercent = Reading.Measured(percent, at, "test"),
        },
    };
}
