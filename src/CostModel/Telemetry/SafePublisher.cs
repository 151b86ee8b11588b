using System.Reactive.Subjects;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CostModel.Telemetry;

/// <summary>
/// An event stream any thread may publish to. The library's streams (route decisions, mesh view
/// changes, outgoing gossip) are how it reports to the host beside logs and metrics, and this is
/// where a subscriber's failure is logged and counted, so it lives with them in Telemetry.
/// <list type="bullet">
/// <item><description><b>Serialised</b>: subscribers get one <see cref="IObserver{T}.OnNext"/> at a time
/// (the Rx contract), and <see cref="IObserver{T}.OnCompleted"/> after the last one.</description></item>
/// <item><description><b>In the order decided</b>: a producer that decides under its own lock calls
/// <see cref="Enqueue"/> under that lock and <see cref="Deliver"/> after releasing it; events then
/// reach subscribers in the order the lock admitted their producers (Suspect before Dead for one node),
/// whichever producer gets to deliver first.</description></item>
/// <item><description><b>Failure-proof</b>: a subscriber's exception is logged and counted
/// (<c>costmodel.stream.subscriber_failures</c>), the other subscribers still get the event, and
/// nothing is thrown to the producer.</description></item>
/// <item><description><b>Lossless and bounded</b>: no event is dropped; producers wait (outside their
/// locks) while <see cref="MaxPending"/> events are queued.</description></item>
/// </list>
/// </summary>
/// <remarks>
/// How: events wait in a queue filled in decision order; one thread at a time empties it (an emitter
/// loop, as in RxJava's serialized subjects): the producer that finds nobody delivering delivers
/// everything queued, its own event and any that arrive meanwhile, then returns; the others return
/// at once. Two other designs were considered and left out. Taking a publish lock before releasing the
/// decision lock deadlocks as soon as a subscriber reads what the producer guards (a mesh change
/// subscriber reading <c>MeshView.Nodes</c> takes the view's lock while a producer holding that lock
/// waits for the publish lock). Numbering events under the decision lock and making each producer wait
/// for its predecessors has the same wait on another thread's subscriber, and a subscriber that
/// publishes (reentrancy) would wait for itself. The emitter loop waits for nobody: a nested publish is
/// queued and delivered after the current event.
/// <para>
/// Consequences for producers: an event may be delivered on another producer's thread, after
/// <see cref="Publish"/> returns (never before every producer has returned), so its contents must not be
/// reused by the producer afterwards (gossip messages are fresh arrays). Once every producer has returned,
/// every event has been delivered. A thread that delivers may deliver other producers' events too.
/// </para>
/// <para>
/// Back-pressure: when a slow subscriber lets <see cref="MaxPending"/> events pile up, a producer
/// arriving in <see cref="Deliver"/> (or <see cref="Publish"/>) waits until the deliverer has made room,
/// so producers slow to the subscriber's pace as they would behind a lock. It waits there, never in
/// <see cref="Enqueue"/>: a producer under its own lock (which the subscriber may need) must not wait,
/// so the queue may pass the bound by what the producers enqueue before they reach
/// <see cref="Deliver"/> (an event or a few each). A thread that is delivering any stream never waits
/// (a subscriber that publishes would otherwise wait for itself, or two streams' deliverers for each
/// other); it adds at most what its subscriber publishes.
/// </para>
/// </remarks>
/// <typeparam name="T">The event.</typeparam>
internal sealed class SafePublisher<T> : IObservable<T>, IDisposable
{
    /// <summary>
    /// 16,384 events queued before producers wait for the subscribers. Producers publish a few events
    /// per request or gossip message; a subscriber this far behind is far slower than its producers, and
    /// queueing more would only grow memory (16,384 route decisions, the largest event, are a few MiB).
    /// </summary>
    public const int MaxPending = 16_384;

    private readonly Subject<T> _subject = new();

    // An object, not a Lock: producers wait on it (Monitor.Wait) for room in a full queue.
    private readonly object _queueGate = new();
    private readonly Queue<T> _pending = new();
    private readonly CostModelMetrics? _metrics;
    private readonly ILogger _logger;

    // Guarded by _queueGate.
    private bool _delivering;
    private int _waiting;
    private bool _completed;
    private bool _completionDelivered;

    /// <summary>Creates a stream.</summary>
    /// <param name="stream">Its name in logs and metrics ("router.decisions", "mesh.changes").</param>
    /// <param name="metrics">Where subscriber failures are counted; null: not counted (a view built without the container).</param>
    /// <param name="logger">Where subscriber failures are logged; null: nowhere.</param>
    public SafePublisher(string stream, CostModelMetrics? metrics, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Stream = stream;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The stream's name in logs and metrics.</summary>
    public string Stream { get; }

    /// <summary>True when someone subscribes: producers may skip building events nobody reads.</summary>
    public bool HasObservers => _subject.HasObservers;

    /// <summary>Producers waiting in <see cref="Deliver"/> for room in the queue (for tests).</summary>
    internal int WaitingProducers
    {
        get
        {
            lock (_queueGate)
            {
                return _waiting;
            }
        }
    }

    /// <summary>Subscribes; the observer's exceptions are caught, logged and counted.</summary>
    /// <param name="observer">The observer.</param>
    /// <returns>Its subscription.</returns>
    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return _subject.Subscribe(new Guarded(this, observer));
    }

    /// <summary>
    /// Queues <paramref name="value"/> and delivers what is queued (unless another thread is
    /// delivering: it will). Call holding no lock a subscriber might take (see <see cref="Deliver"/>).
    /// </summary>
    /// <param name="value">The event.</param>
    public void Publish(T value)
    {
        if (Enqueue(value))
        {
            Deliver();
        }
    }

    /// <summary>
    /// Queues <paramref name="value"/> without delivering it and without waiting: call under the lock
    /// that decided it, so events queue in the order decided, then call <see cref="Deliver"/> after
    /// releasing that lock. Nothing is queued when nobody subscribes, or after <see cref="Dispose"/>.
    /// </summary>
    /// <param name="value">The event.</param>
    /// <returns>True when it was queued.</returns>
    public bool Enqueue(T value)
    {
        if (!_subject.HasObservers)
        {
            return false;
        }

        lock (_queueGate)
        {
            if (_completed)
            {
                return false;
            }

            _pending.Enqueue(value);
            return true;
        }
    }

    /// <summary>
    /// Delivers every queued event, in order, unless another thread is delivering (it delivers them);
    /// while that thread has <see cref="MaxPending"/> events queued, waits for it to make room first.
    /// Call outside the producer's own locks: subscribers run here, and it may wait.
    /// </summary>
    public void Deliver()
    {
        lock (_queueGate)
        {
            while (_delivering && _pending.Count >= MaxPending && !_completed && !Delivery.OnThisThread)
            {
                // Woken when the deliverer makes room or stops, or the stream completes; then look again.
                _waiting++;
                Monitor.Wait(_queueGate);
                _waiting--;
            }

            if (_delivering)
            {
                return;
            }

            _delivering = true;
        }

        bool finished = false;
        Delivery.Enter();
        try
        {
            while (true)
            {
                T value;
                bool complete = false;
                lock (_queueGate)
                {
                    if (!_pending.TryDequeue(out value!))
                    {
                        if (!_completed || _completionDelivered)
                        {
                            // Cleared under the same lock that found the queue empty: an event queued
                            // after this finds nobody delivering, and its producer delivers it.
                            _delivering = false;
                            finished = true;
                            WakeWaiting();
                            return;
                        }

                        _completionDelivered = true;
                        complete = true;
                    }
                    else if (_pending.Count < MaxPending)
                    {
                        WakeWaiting();
                    }
                }

                if (complete)
                {
                    _subject.OnCompleted();
                    _subject.Dispose();
                }
                else
                {
                    _subject.OnNext(value);
                }
            }
        }
        finally
        {
            Delivery.Exit();

            // Only an exception no subscriber guard catches (out of memory) gets here unfinished:
            // the next producer must still be able to deliver.
            if (!finished)
            {
                lock (_queueGate)
                {
                    _delivering = false;
                    WakeWaiting();
                }
            }
        }
    }

    /// <summary>Completes the stream: subscribers get what is queued, then <see cref="IObserver{T}.OnCompleted"/>; later events are ignored.</summary>
    public void Dispose()
    {
        lock (_queueGate)
        {
            _completed = true;
            WakeWaiting();
        }

        Deliver();
    }

    /// <summary>Wakes the producers waiting for room (under the queue's lock); nothing to do when none wait.</summary>
    private void WakeWaiting()
    {
        if (_waiting > 0)
        {
            Monitor.PulseAll(_queueGate);
        }
    }

    private void SubscriberFailed(Exception exception, int failures)
    {
        _metrics?.SubscriberFailed(Stream);

        // The first failure of a subscriber is news; the same subscriber failing on every event is not.
        if (failures == 1)
        {
            Log.SubscriberThrew(_logger, Stream, exception);
        }
        else
        {
            Log.SubscriberThrewAgain(_logger, Stream, failures, exception);
        }
    }

    /// <summary>A subscriber behind a guard: what it throws stops here.</summary>
    private sealed class Guarded(SafePublisher<T> owner, IObserver<T> inner) : IObserver<T>
    {
        // Calls are serialised by the owner: no interlocking needed.
        private int _failures;

        public void OnNext(T value)
        {
            try
            {
                inner.OnNext(value);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                owner.SubscriberFailed(ex, ++_failures);
            }
        }

        public void OnError(Exception error)
        {
            try
            {
                inner.OnError(error);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                owner.SubscriberFailed(ex, ++_failures);
            }
        }

        public void OnCompleted()
        {
            try
            {
                inner.OnCompleted();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                owner.SubscriberFailed(ex, ++_failures);
            }
        }
    }
}

/// <summary>Which threads are delivering some stream: they never wait for room (not generic, so shared by every stream's type).</summary>
internal static class Delivery
{
    // How many SafePublisher<T>.Deliver loops this thread is inside (nested when a subscriber publishes to another stream).
    [ThreadStatic]
    private static int t_depth;

    /// <summary>True on a thread that is delivering some stream's events.</summary>
    public static bool OnThisThread => t_depth > 0;

    public static void Enter() => t_depth++;

    public static void Exit() => t_depth--;
}
