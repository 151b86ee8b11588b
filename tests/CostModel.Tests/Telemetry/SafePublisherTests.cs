using System.Reactive;
using CostModel.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace CostModel.Tests.Telemetry;

public sealed class SafePublisherTests : IDisposable
{
    // A guard against a hang, never a wait for something to happen.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly OwnedMeterFactory _meters = new();
    private readonly CostModelMetrics _metrics;
    private readonly FakeLogCollector _logs = new();

    public SafePublisherTests() => _metrics = new CostModelMetrics(_meters);

    public void Dispose() => _meters.Dispose();

    private SafePublisher<int> Publisher() => new("test", _metrics, new FakeLogger(_logs));

    [Fact]
    public void A_throwing_subscriber_is_logged_and_counted_the_others_still_get_the_event_and_the_producer_never_sees_it()
    {
        using SafePublisher<int> publisher = Publisher();
        using var failures = new MetricCollector<long>(_metrics.Meter, "costmodel.stream.subscriber_failures");
        var seen = new List<int>();
        using IDisposable thrower = publisher.Subscribe(Observer.Create<int>(_ => throw new InvalidOperationException("subscriber bug")));
        using IDisposable recorder = publisher.Subscribe(Observer.Create<int>(seen.Add));

        publisher.Publish(1);
        publisher.Publish(2);

        Assert.Equal([1, 2], seen);
        Assert.Equal(2, failures.GetMeasurementSnapshot().Count);
        Assert.All(failures.GetMeasurementSnapshot(), m => Assert.Equal("test", m.Tags["stream"]));

        // The first failure of a subscriber warns; the same subscriber failing again is logged at Debug.
        IReadOnlyList<FakeLogRecord> logs = _logs.GetSnapshot();
        FakeLogRecord first = Assert.Single(logs, r => r.Id.Id == 5001);
        Assert.Equal(LogLevel.Warning, first.Level);
        Assert.IsType<InvalidOperationException>(first.Exception);
        Assert.Equal(LogLevel.Debug, Assert.Single(logs, r => r.Id.Id == 5002).Level);
    }

    [Fact]
    public async Task Concurrent_producers_never_overlap_OnNext_and_every_event_arrives()
    {
        const int Threads = 8;
        const int PerThread = 5_000;
        using SafePublisher<int> publisher = Publisher();
        int inside = 0;
        int mostInside = 0;
        int received = 0;
        using IDisposable subscription = publisher.Subscribe(Observer.Create<int>(_ =>
        {
            int now = Interlocked.Increment(ref inside);
            int seen;
            while (now > (seen = Volatile.Read(ref mostInside)) && Interlocked.CompareExchange(ref mostInside, now, seen) != seen)
            {
            }

            // A plain increment on purpose: two overlapping calls would lose updates.
            received++;
            Thread.SpinWait(20); // widens the window in which an overlap would show
            Interlocked.Decrement(ref inside);
        }));

        await RunTogether(Threads, _ =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                publisher.Publish(i);
            }
        });

        Assert.Equal(1, mostInside);
        Assert.Equal(Threads * PerThread, received);
    }

    [Fact]
    public async Task Events_reach_subscribers_in_the_order_their_producers_decided_them()
    {
        // Each producer decides under its lock (takes the next number), queues there, and delivers
        // after releasing it: the way MeshView and the gossip adapter make changes. Fewer events in
        // all than the pending bound, so none can be dropped.
        const int Threads = 4;
        const int PerThread = 2_000;
        Assert.True(Threads * PerThread < SafePublisher<int>.MaxPending);
        using SafePublisher<int> publisher = Publisher();
        var decisionGate = new Lock();
        int next = 0;
        var seen = new List<int>(Threads * PerThread);
        using IDisposable subscription = publisher.Subscribe(Observer.Create<int>(seen.Add));

        await RunTogether(Threads, _ =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                lock (decisionGate)
                {
                    publisher.Enqueue(next++);
                }

                publisher.Deliver();
            }
        });

        Assert.Equal(Enumerable.Range(0, Threads * PerThread), seen);
    }

    [Fact]
    public async Task An_event_decided_first_is_delivered_first_even_when_its_producer_delivers_last()
    {
        using SafePublisher<string> publisher = new("test", _metrics, null);
        var seen = new List<string>();
        using IDisposable subscription = publisher.Subscribe(Observer.Create<string>(seen.Add));
        var decisionGate = new Lock();
        using var decided = new ManualResetEventSlim();
        using var mayDeliver = new ManualResetEventSlim();

        // The timer thread decides "suspect" and is held before delivering it.
        Task timer = Task.Factory.StartNew(() =>
        {
            lock (decisionGate)
            {
                publisher.Enqueue("n1 suspect");
            }

            decided.Set();
            mayDeliver.Wait(Guard, TestContext.Current.CancellationToken);
            publisher.Deliver();
        }, TaskCreationOptions.LongRunning);

        // Meanwhile the receive thread decides "dead" and delivers at once.
        Assert.True(decided.Wait(Guard, TestContext.Current.CancellationToken));
        lock (decisionGate)
        {
            publisher.Enqueue("n1 dead");
        }

        publisher.Deliver();
        mayDeliver.Set();
        await timer.WaitAsync(Guard, TestContext.Current.CancellationToken);

        Assert.Equal(["n1 suspect", "n1 dead"], seen);
    }

    [Fact]
    public async Task A_subscriber_that_publishes_gets_its_event_after_the_current_one_without_deadlock()
    {
        using SafePublisher<int> publisher = Publisher();
        var seen = new List<string>();
        using IDisposable subscription = publisher.Subscribe(Observer.Create<int>(value =>
        {
            seen.Add($"start {value}");
            if (value == 1)
            {
                publisher.Publish(2);
            }

            seen.Add($"end {value}");
        }));

        await Task.Run(() => publisher.Publish(1), TestContext.Current.CancellationToken).WaitAsync(Guard, TestContext.Current.CancellationToken);

        // Not nested (start 2 inside 1 would break the Rx contract): queued and delivered next.
        Assert.Equal(["start 1", "end 1", "start 2", "end 2"], seen);
    }

    [Fact]
    public void Dispose_delivers_what_is_queued_then_completes_once_and_later_events_are_ignored()
    {
        SafePublisher<int> publisher = Publisher();
        var seen = new List<string>();
        using IDisposable subscription = publisher.Subscribe(Observer.Create<int>(v => seen.Add(v.ToString(System.Globalization.CultureInfo.InvariantCulture)), () => seen.Add("completed")));
        publisher.Enqueue(1);

        publisher.Dispose();
        publisher.Publish(2);
        publisher.Dispose();

        Assert.Equal(["1", "completed"], seen);
        Assert.False(publisher.HasObservers);
    }

    [Fact]
    public async Task Behind_a_slow_subscriber_producers_wait_for_room_outside_their_locks_and_nothing_is_dropped()
    {
        using SafePublisher<int> publisher = Publisher();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var decisionGate = new Lock();
        var seen = new List<int>();
        using IDisposable subscription = publisher.Subscribe(Observer.Create<int>(value =>
        {
            if (value == -1)
            {
                entered.Set();
                release.Wait(Guard, TestContext.Current.CancellationToken);
            }

            seen.Add(value);
        }));

        // One producer delivers the first event and is held inside the subscriber.
        Task stuck = Task.Factory.StartNew(() => publisher.Publish(-1), TaskCreationOptions.LongRunning);
        Assert.True(entered.Wait(Guard, TestContext.Current.CancellationToken));

        // Producers under their lock queue without waiting, up to the bound and past it.
        for (int i = 0; i < SafePublisher<int>.MaxPending; i++)
        {
            lock (decisionGate)
            {
                Assert.True(publisher.Enqueue(i));
            }
        }

        // The next producer queues under its lock, then waits in Deliver (observed by polling, with a guard) ...
        Task late = Task.Factory.StartNew(
            () =>
            {
                lock (decisionGate)
                {
                    publisher.Enqueue(SafePublisher<int>.MaxPending);
                }

                publisher.Deliver();
            },
            TaskCreationOptions.LongRunning);
        Assert.True(SpinWait.SpinUntil(() => publisher.WaitingProducers == 1, Guard));
        Assert.False(late.IsCompleted);

        // ... holding no lock: the decision lock is free for others.
        Assert.True(decisionGate.TryEnter());
        decisionGate.Exit();

        // Once the subscriber catches up, everything arrives, in order.
        release.Set();
        await Task.WhenAll(stuck, late).WaitAsync(Guard, TestContext.Current.CancellationToken);

        Assert.Equal([-1, .. Enumerable.Range(0, SafePublisher<int>.MaxPending + 1)], seen);
        Assert.Equal(0, publisher.WaitingProducers);
    }

    [Fact]
    public async Task A_subscriber_that_fills_its_own_stream_past_the_bound_does_not_wait_for_itself()
    {
        using SafePublisher<int> publisher = Publisher();
        int received = 0;
        using IDisposable subscription = publisher.Subscribe(Observer.Create<int>(value =>
        {
            received++;
            if (value == -1)
            {
                for (int i = 0; i <= SafePublisher<int>.MaxPending; i++)
                {
                    publisher.Publish(i);
                }
            }
        }));

        await Task.Run(() => publisher.Publish(-1), TestContext.Current.CancellationToken).WaitAsync(Guard, TestContext.Current.CancellationToken);

        Assert.Equal(SafePublisher<int>.MaxPending + 2, received);
    }

    private static async Task RunTogether(int threads, Action<int> body)
    {
        using var start = new Barrier(threads);
        Task[] tasks = [.. Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(Guard);
            body(t);
        }, TaskCreationOptions.LongRunning))];
        await Task.WhenAll(tasks).WaitAsync(Guard, TestContext.Current.CancellationToken);
    }
}
