using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>The simulator's clock: timers in due order, ties in scheduling order, periodic and zero-due timers as FakeTimeProvider runs them.</summary>
public sealed class VirtualClockTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Timers_run_in_due_order_and_ties_in_the_order_they_were_scheduled()
    {
        var clock = new VirtualClock(Start);
        var fired = new List<string>();
        using ITimer late = clock.CreateTimer(_ => fired.Add("late"), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        using ITimer first = clock.CreateTimer(_ => fired.Add("first"), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        using ITimer second = clock.CreateTimer(_ => fired.Add("second"), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(["first", "second", "late"], fired);
    }

    [Fact]
    public void Callbacks_read_the_end_of_the_advance_and_a_periodic_timer_keeps_its_phase()
    {
        var clock = new VirtualClock(Start);
        var seen = new List<DateTimeOffset>();
        using ITimer timer = clock.CreateTimer(_ => seen.Add(clock.GetUtcNow()), null, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(200));

        clock.Advance(TimeSpan.FromMilliseconds(750));
        Assert.Equal(3, seen.Count);
        Assert.All(seen, t => Assert.Equal(Start.AddMilliseconds(750), t));

        clock.Advance(TimeSpan.FromMilliseconds(150));
        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public void A_timer_due_now_runs_before_create_returns_and_one_changed_from_a_callback_runs_in_the_same_pass()
    {
        var clock = new VirtualClock(Start);
        var fired = new List<string>();
        ITimer? other = null;
        using ITimer now = clock.CreateTimer(_ => fired.Add("now"), null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        Assert.Equal(["now"], fired);

        other = clock.CreateTimer(_ => fired.Add("other"), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        using ITimer trigger = clock.CreateTimer(_ => { fired.Add("trigger"); other.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan); }, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(["now", "trigger", "other"], fired);
        other.Dispose();
    }

    [Fact]
    public void A_disposed_or_rescheduled_timer_does_not_run_at_its_old_time()
    {
        var clock = new VirtualClock(Start);
        int disposedRuns = 0, movedRuns = 0;
        ITimer disposed = clock.CreateTimer(_ => disposedRuns++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        using ITimer moved = clock.CreateTimer(_ => movedRuns++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        disposed.Dispose();
        moved.Change(TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, disposedRuns);
        Assert.Equal(0, movedRuns);
        Assert.Equal(1, clock.ScheduledTimers);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, movedRuns);
        Assert.False(disposed.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void Timestamps_are_utc_ticks_and_the_clock_never_goes_back()
    {
        var clock = new VirtualClock(Start);
        long before = clock.GetTimestamp();
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.TicksPerSecond, clock.TimestampFrequency);
        Assert.Equal(TimeSpan.FromMilliseconds(1), clock.GetElapsedTime(before));
        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Advance(TimeSpan.FromTicks(-1)));
    }
}
