using CostModel.Factors;
using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

public sealed class PathMeteredTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, true)]   // cellular or a personal hotspot
    [InlineData(false, true, true)]   // Low Data Mode
    [InlineData(true, true, true)]
    public void A_satisfied_path_is_metered_when_expensive_or_constrained(bool expensive, bool constrained, bool metered)
    {
        var update = new PathUpdate(PathMetered.StatusSatisfied, expensive, constrained, Now.AddMinutes(-3));

        Reading<bool> reading = PathMetered.ToReading(update, Now, PathMetered.SourceOf(update));

        Assert.Equal(SignalQuality.Measured, reading.Quality);
        Assert.Equal(metered, reading.Value);
        Assert.Equal(Now, reading.ObservedAt); // the latest update stands until the next: it is current
        Assert.Contains($"expensive={(expensive ? "yes" : "no")}, constrained={(constrained ? "yes" : "no")}", reading.Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PathMetered.StatusInvalid, "invalid path")]
    [InlineData(PathMetered.StatusUnsatisfied, "no usable path")]
    [InlineData(PathMetered.StatusSatisfiable, "on demand")]
    [InlineData(9, "nw_path_get_status returned 9")]
    public void A_path_that_is_not_satisfied_says_nothing_about_cost_even_when_flagged_expensive(int status, string reason)
    {
        var update = new PathUpdate(status, IsExpensive: true, IsConstrained: true, Now);

        Reading<bool> reading = PathMetered.ToReading(update, Now, "unused");

        Assert.Equal(SignalQuality.Unknown, reading.Quality);
        Assert.Contains(reason, reading.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void No_update_yet_is_unknown_with_that_reason()
    {
        Reading<bool> reading = PathMetered.ToReading(null, Now, "unused");

        Assert.Equal(SignalQuality.Unknown, reading.Quality);
        Assert.Equal(PathMetered.NoUpdateReason, reading.Reason);
    }
}
