namespace CostModel.Testing.Simulation;

/// <summary>
/// The simulator's clock: virtual time that moves only when <see cref="Advance"/> is called, with
/// timers kept in a priority queue, so that a mesh of thousands of nodes (each with its gossip and
/// sampling timers) pays O(log timers) per timer that fires rather than a scan of every timer.
/// </summary>
/// <remarks>
/// <para>
/// It behaves as <c>FakeTimeProvider</c> does for everything the simulator relies on: the clock
/// moves to the end of an <see cref="Advance"/> before timers run, so callbacks read the end time;
/// due timers then run on the calling thread in order of due time, ties in the order they were
/// scheduled; a periodic timer is due again one period after its previous due time; a timer
/// created or changed with a due time of zero runs before <c>CreateTimer</c> or
/// <see cref="ITimer.Change"/> returns (unless a timer callback is already running on this clock,
/// in which case it runs right after that callback, in the same pass). Timestamps are UTC ticks
/// (<see cref="TimestampFrequency"/> = <see cref="TimeSpan.TicksPerSecond"/>).
/// </para>
/// <para>
/// Unlike <c>FakeTimeProvider</c>, reading the clock takes no lock and scans nothing; ties between
/// timers due at the same instant and scheduled at the same instant run in the order they were
/// scheduled (a sequence number), not in a hash set's order.
/// </para>
/// <para>
/// Thread-safe for scheduling and reading; timer callbacks run one at a time on the thread that
/// advances the clock (or that schedules a timer already due).
/// </para>
/// </remarks>
internal sealed class VirtualClock : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly PriorityQueue<(VirtualTimer Timer, long Version), (long Due, long Sequence)> _due = new();
    private long _nowTicks;
    private long _sequence;
    private bool _waking;

    /// <summary>Creates a clock that starts at <paramref name="start"/>.</summary>
    /// <param name="start">The first time it reads (its offset is dropped: the clock is UTC).</param>
    public VirtualClock(DateTimeOffset start)
    {
        _nowTicks = start.UtcTicks;
    }

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Timers scheduled and not yet run, changed or disposed (stale queue entries are not counted).</summary>
    internal int ScheduledTimers
    {
        get
        {
            lock (_gate)
            {
                return _due.UnorderedItems.Count(e => e.Element.Version == e.Element.Timer.Version);
            }
        }
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => new(Volatile.Read(ref _nowTicks), TimeSpan.Zero);

    /// <inheritdoc />
    public override long GetTimestamp() => Volatile.Read(ref _nowTicks);

    /// <summary>Moves the clock forward, then runs every timer due by the new time.</summary>
    /// <param name="delta">How far; zero runs the timers already due.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        lock (_gate)
        {
            _nowTicks += delta.Ticks;
        }

        WakeDue();
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Schedules (or, for an infinite due time, unschedules) a timer; runs it at once when it is already due.</summary>
    private bool Schedule(VirtualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        long due = ToTicks(dueTime, nameof(dueTime));
        long every = ToTicks(period, nameof(period));
        lock (_gate)
        {
            if (timer.Disposed)
            {
                return false;
            }

            timer.Version++;
            if (due == Timeout.Infinite)
            {
                return true;
            }

            timer.PeriodTicks = every is Timeout.Infinite or 0 ? 0 : every;
            timer.DueTicks = _nowTicks + due;
            _due.Enqueue((timer, timer.Version), (timer.DueTicks, _sequence++));
        }

        if (due == 0)
        {
            WakeDue();
        }

        return true;
    }

    private void Unschedule(VirtualTimer timer)
    {
        lock (_gate)
        {
            timer.Disposed = true;
            timer.Version++;
        }
    }

    /// <summary>Runs every due timer, earliest first; one pass at a time (a callback that schedules a due timer leaves it to the running pass).</summary>
    private void WakeDue()
    {
        lock (_gate)
        {
            if (_waking)
            {
                return;
            }

            _waking = true;
        }

        try
        {
            while (true)
            {
                VirtualTimer timer;
                long version;
                lock (_gate)
                {
                    if (!_due.TryPeek(out (VirtualTimer Timer, long Version) next, out (long Due, long Sequence) key) || key.Due > _nowTicks)
                    {
                        return;
                    }

                    _due.Dequeue();
                    (timer, version) = next;
                    if (version != timer.Version)
                    {
                        // Changed or disposed since it was queued.
                        continue;
                    }
                }

                timer.Invoke();
                lock (_gate)
                {
                    // Periodic and neither changed nor disposed by its callback: due again one period after this due time.
                    if (version == timer.Version && timer.PeriodTicks > 0)
                    {
                        timer.Version++;
                        timer.DueTicks += timer.PeriodTicks;
                        _due.Enqueue((timer, timer.Version), (timer.DueTicks, _sequence++));
                    }
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _waking = false;
            }
        }
    }

    private static long ToTicks(TimeSpan value, string name)
    {
        if (value == Timeout.InfiniteTimeSpan)
        {
            return Timeout.Infinite;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, name);
        return value.Ticks;
    }

    /// <summary>A timer on the virtual clock; its state is guarded by the clock's lock.</summary>
    private sealed class VirtualTimer(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        /// <summary>Bumped on every change: queue entries with an older version are stale.</summary>
        public long Version { get; set; }

        public long DueTicks { get; set; }

        /// <summary>0 for a one-shot timer.</summary>
        public long PeriodTicks { get; set; }

        public bool Disposed { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period) => clock.Schedule(this, dueTime, period);

        public void Invoke() => callback(state);

        public void Dispose() => clock.Unschedule(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
