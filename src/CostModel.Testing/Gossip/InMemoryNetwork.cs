using System.Runtime.ExceptionServices;
using CostModel.Gossip;

namespace CostModel.Testing.Gossip;

/// <summary>Receives a payload that an <see cref="InMemoryNetwork"/> delivers to an endpoint.</summary>
/// <param name="payload">The bytes as sent; valid only during the call.</param>
/// <param name="from">The sender's address.</param>
/// <remarks><see cref="InMemoryNetwork.Attach"/> wires a gossip adapter's <see cref="IGossipAdapter.Receive"/> through one of these.</remarks>
public delegate void PayloadReceiver(ReadOnlySpan<byte> payload, string from);

/// <summary>
/// A deterministic simulated network that carries byte payloads between named endpoints, with
/// per-link loss, delay, jitter (reordering), duplication, MTU and partitions, for testing gossip.
/// </summary>
/// <remarks>
/// <para>
/// <b>Time.</b> Messages wait in an event queue ordered by due time (ties in send order). One
/// timer from the <see cref="TimeProvider"/> is armed for the earliest due message; when it fires,
/// every message due by then is delivered in order. With <c>FakeTimeProvider</c>, nothing is
/// delivered until <c>Advance</c> reaches a message's due time, and <c>Advance</c> delivers on the
/// calling thread before it returns. <c>FakeTimeProvider.Advance</c> moves the clock to its end
/// before timers run, so messages sent from a receive callback are timed from that end: advance in
/// steps no longer than the shortest delay when the time between hops matters. A message with no
/// delay is delivered inside <see cref="Send"/> (or, when sent from a receive callback, right after
/// that callback returns).
/// </para>
/// <para>
/// <b>Randomness.</b> Loss, duplication, jitter and peer choice draw from one <see cref="Random"/>
/// with the given seed, so the same calls in the same order give the same outcome.
/// </para>
/// <para>
/// <b>Checks at send</b>, in this order: the receiver exists, no partition separates the two, the
/// payload fits the link's MTU, the message is not lost. A receiver removed while a message is in
/// flight makes it an unknown-endpoint drop at delivery. Partitions apply at send: messages already
/// in flight still arrive.
/// </para>
/// <para>
/// Thread-safe: a simulator may send from several threads; receive callbacks are never run
/// concurrently with each other, except for different receivers when <see cref="ParallelDelivery"/>
/// is on (the simulator's own setting).
/// </para>
/// </remarks>
public sealed class InMemoryNetwork : IDisposable
{
    // 2 KiB: the largest pooled buffer. A pooled buffer is as long as the default link's MTU (a
    // message on such a link fits it exactly; 1,400 bytes by default) up to this; a larger payload
    // gets its own array. Until 2026-12 every buffer was 2 KiB: at the default MTU 648 bytes of each
    // were never written, 13.5 MB of the 20,800 buffers a 1,000-node simulation keeps.
    private const int MaxPooledBufferBytes = 2_048;

    // 65,536 buffers (87.5 MiB at the default MTU, 128 MiB at most): more than a 5,000-node mesh keeps in flight at a 5 ms delay; beyond it, buffers go to the collector.
    private const int MaxPooledBuffers = 65_536;

    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private readonly Dictionary<string, PayloadReceiver> _endpoints = new(StringComparer.Ordinal);
    private readonly List<string> _addresses = []; // in the order added, so that seeded peer choice is reproducible
    private readonly Dictionary<string, int> _addressIndex = new(StringComparer.Ordinal); // position in _addresses
    private readonly Dictionary<(string From, string To), LinkConditions> _links = [];
    private readonly List<HashSet<string>> _cuts = [];
    private readonly Dictionary<string, Counters> _counters = new(StringComparer.Ordinal);
    private readonly Counters _total = new();
    private readonly InFlightQueue _inFlight = new();
    // Buffers of messages in flight, reused: every message of a gossip round is in flight at once
    // (the links' delay), so a shared array pool would run dry and allocate anyway.
    private readonly Stack<byte[]> _buffers = new();

    // The length of the pooled buffers (under the gate): the default link's MTU, at most MaxPooledBufferBytes.
    private int _pooledBytes = PooledLength(LinkConditions.Perfect);

    // Positions swapped by the sparse shuffle of PickPeers, reused (cleared per pick, under the gate).
    private readonly Dictionary<int, int> _swapped = [];

    // The sends of a receive callback run by ParallelDelivery, kept until the wave is done (see Wave).
    [ThreadStatic]
    private static Wave.Sends? t_sends;

    // Reused by ParallelDelivery's waves (only the draining pass touches it).
    private readonly Wave _wave = new();
    private LinkConditions _defaultConditions = LinkConditions.Perfect;
    private long _sequence;
    private bool _draining;
    private bool _disposed;

    /// <summary>Creates an empty network.</summary>
    /// <param name="timeProvider">The clock that times deliveries (a <c>FakeTimeProvider</c> in tests).</param>
    /// <param name="seed">The seed for loss, duplication, jitter and peer choice.</param>
    public InMemoryNetwork(TimeProvider timeProvider, int seed)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
        _random = new Random(seed);
        _timer = timeProvider.CreateTimer(static state => ((InMemoryNetwork)state!).Drain(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The conditions of every link without its own (<see cref="SetLink"/>); <see cref="LinkConditions.Perfect"/> at first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public LinkConditions DefaultConditions
    {
        get
        {
            lock (_gate)
            {
                return _defaultConditions;
            }
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            lock (_gate)
            {
                _defaultConditions = value;
                int pooled = PooledLength(value);
                if (pooled != _pooledBytes)
                {
                    // Buffers of the old length are left to the collector (Recycle keeps only the new length).
                    _pooledBytes = pooled;
                    _buffers.Clear();
                }
            }
        }
    }

    /// <summary>The addresses of the endpoints, in the order they were added.</summary>
    public IReadOnlyList<string> Endpoints
    {
        get
        {
            lock (_gate)
            {
                return [.. _addresses];
            }
        }
    }

    /// <summary>Messages sent and not yet delivered or dropped.</summary>
    public int InFlightCount
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>
    /// Delivers the messages due at one moment to different receivers in parallel (each receiver's
    /// in their order, on one thread), for a simulator hosting many independent nodes on several
    /// cores. The outcome is the same as one by one: what the callbacks send is kept and sent after
    /// the wave, in the order the messages were due and each callback sent it, so sequence numbers,
    /// random draws (loss, duplication, jitter, peer choice) and counters come out as they would
    /// have. The receivers must share no state but through thread-safe, order-free means (the
    /// simulator's nodes share interned capabilities and ids). Off by default.
    /// </summary>
    internal bool ParallelDelivery { get; set; }

    /// <summary>The traffic of the whole network.</summary>
    public TrafficCounters Total
    {
        get
        {
            lock (_gate)
            {
                return _total.Snapshot();
            }
        }
    }

    /// <summary>The traffic of one address: what it sent and had dropped, and what was delivered to it.</summary>
    /// <param name="address">The address (zero counts when it never sent or received).</param>
    /// <returns>A snapshot of its counters.</returns>
    public TrafficCounters CountersOf(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            return _counters.TryGetValue(address, out Counters? counters) ? counters.Snapshot() : new TrafficCounters();
        }
    }

    /// <summary>Adds an endpoint that receives the messages sent to <paramref name="address"/>.</summary>
    /// <param name="address">The endpoint's address, any non-empty string.</param>
    /// <param name="receive">Called for each delivered message (<c>adapter.Receive</c> for a gossip adapter).</param>
    /// <exception cref="ArgumentException">The address is empty or already taken.</exception>
    public void AddEndpoint(string address, PayloadReceiver receive)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        ArgumentNullException.ThrowIfNull(receive);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_endpoints.TryAdd(address, receive))
            {
                throw new ArgumentException($"An endpoint with address '{address}' already exists.", nameof(address));
            }

            _addressIndex.Add(address, _addresses.Count);
            _addresses.Add(address);
        }
    }

    /// <summary>Removes an endpoint; messages to it, including those in flight, become unknown-endpoint drops.</summary>
    /// <param name="address">The endpoint's address.</param>
    /// <returns>Whether there was such an endpoint.</returns>
    public bool RemoveEndpoint(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            if (!_endpoints.Remove(address) || !_addressIndex.Remove(address, out int at))
            {
                return false;
            }

            // Later addresses move up one place.
            _addresses.RemoveAt(at);
            for (int i = at; i < _addresses.Count; i++)
            {
                _addressIndex[_addresses[i]] = i;
            }

            return true;
        }
    }

    /// <summary>Adds an endpoint for a gossip adapter and wires it the way a host would (see <see cref="GossipEndpoint"/>).</summary>
    /// <param name="address">The endpoint's address; the adapter sees it as the sender of what it sends.</param>
    /// <param name="adapter">The adapter: it receives what is sent to the address, and its <see cref="IGossipAdapter.Outgoing"/> is sent.</param>
    /// <param name="fanout">How many random peers a message without an addressee, and each gossip round, goes to.</param>
    /// <returns>The endpoint; dispose it to detach the adapter and remove the endpoint.</returns>
    /// <exception cref="ArgumentException">The address is empty or already taken.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fanout"/> is less than 1.</exception>
    public GossipEndpoint Attach(string address, IGossipAdapter adapter, int fanout = GossipEndpoint.DefaultFanout)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentOutOfRangeException.ThrowIfLessThan(fanout, 1);
        AddEndpoint(address, (payload, from) => adapter.Receive(payload, from));
        return new GossipEndpoint(this, address, adapter, fanout);
    }

    /// <summary>Sets the conditions of the link in one direction (call again with the two swapped for the other).</summary>
    /// <param name="from">The sender's address.</param>
    /// <param name="to">The receiver's address.</param>
    /// <param name="conditions">The link's conditions, or null to use <see cref="DefaultConditions"/> again.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void SetLink(string from, string to, LinkConditions? conditions)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        conditions?.Validate();
        lock (_gate)
        {
            if (conditions is null)
            {
                _links.Remove((from, to));
            }
            else
            {
                _links[(from, to)] = conditions;
            }
        }
    }

    /// <summary>
    /// Cuts the given addresses off from all others, in both directions, until <see cref="Heal"/>.
    /// Partitions add up: two endpoints can talk when no partition separates them.
    /// </summary>
    /// <param name="side">The addresses on one side of the cut.</param>
    public void Partition(params IEnumerable<string> side)
    {
        ArgumentNullException.ThrowIfNull(side);
        var cut = new HashSet<string>(side, StringComparer.Ordinal);
        lock (_gate)
        {
            _cuts.Add(cut);
        }
    }

    /// <summary>Removes every partition.</summary>
    public void Heal()
    {
        lock (_gate)
        {
            _cuts.Clear();
        }
    }

    /// <summary>Sends a copy of <paramref name="payload"/> from one address to another, subject to the link's conditions.</summary>
    /// <param name="from">The sender's address (need not be an endpoint, so a test can inject traffic).</param>
    /// <param name="to">The receiver's address.</param>
    /// <param name="payload">The bytes; copied before this returns.</param>
    /// <exception cref="ObjectDisposedException">The network is disposed.</exception>
    public void Send(string from, string to, ReadOnlySpan<byte> payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        if (Deferred() is { } sends)
        {
            sends.Add(from, to, 0, Pooled(payload), payload.Length);
            return;
        }

        bool deliverNow;
        lock (_gate)
        {
            SendLocked(from, to, payload);
            deliverNow = ArmTimer(_time.GetUtcNow());
        }

        if (deliverNow)
        {
            Drain();
        }
    }

    /// <summary>Sends a copy of <paramref name="payload"/> to up to <paramref name="fanout"/> random endpoints other than <paramref name="from"/> (<see cref="PickPeers(string, int, List{string})"/>).</summary>
    internal void SendToPeers(string from, int fanout, ReadOnlySpan<byte> payload)
    {
        if (Deferred() is { } sends)
        {
            sends.Add(from, null, fanout, Pooled(payload), payload.Length);
            return;
        }

        foreach (string peer in PickPeers(from, fanout))
        {
            Send(from, peer, payload);
        }
    }

    /// <summary>The sends being kept by the wave this thread runs a receive callback of; null when not in one of this network's waves.</summary>
    private Wave.Sends? Deferred() => t_sends is { } sends && ReferenceEquals(sends.Network, this) ? sends : null;

    /// <summary>A copy of a payload in a pooled buffer (taking the gate).</summary>
    private byte[] Pooled(ReadOnlySpan<byte> payload)
    {
        lock (_gate)
        {
            return Copy(payload);
        }
    }

    /// <summary>Counts and checks one message and queues a copy of it (or drops it). Caller holds the gate.</summary>
    private void SendLocked(string from, string to, ReadOnlySpan<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int length = payload.Length;
        var count = new MessageCount(1, length);
        Counters sender = CountersFor(from);
        Count(sender, Outcome.Sent, count);
        LinkConditions link = _links.GetValueOrDefault((from, to)) ?? _defaultConditions;

        Outcome? drop =
            !_endpoints.ContainsKey(to) ? Outcome.UnknownEndpoint
            : !CanReach(from, to) ? Outcome.Partitioned
            : length > link.Mtu ? Outcome.Oversize
            : Happens(link.LossProbability) ? Outcome.Lost
            : null;
        if (drop is { } reason)
        {
            Count(sender, reason, count);
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        Enqueue(from, to, Copy(payload), length, link, now);
        if (Happens(link.DuplicationProbability))
        {
            Count(sender, Outcome.Duplicated, count);
            Enqueue(from, to, Copy(payload), length, link, now);
        }
    }

    /// <summary>Stops the delivery timer; messages in flight are never delivered.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _inFlight.Clear();
        }

        _timer.Dispose();
    }

    /// <summary>
    /// True when nothing sent or in flight can be delivered at this instant: no message in flight is
    /// due yet, and every link (the default conditions and each set with <see cref="SetLink"/>) delays
    /// what it carries. Then sends made now only queue, and a batch of senders may write their
    /// messages in any order before sending them in theirs (<see cref="GossipEndpoint.WriteRound"/>).
    /// </summary>
    internal bool DeliversNothingNow()
    {
        lock (_gate)
        {
            if (_defaultConditions.Delay <= TimeSpan.Zero
                || (_inFlight.TryPeek(out _, out (DateTimeOffset Due, long Sequence) next) && next.Due <= _time.GetUtcNow()))
            {
                return false;
            }

            foreach (LinkConditions link in _links.Values)
            {
                if (link.Delay <= TimeSpan.Zero)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Up to <paramref name="count"/> distinct random endpoints other than <paramref name="self"/>.</summary>
    internal List<string> PickPeers(string self, int count)
    {
        var picked = new List<string>(count);
        PickPeers(self, count, picked);
        return picked;
    }

    /// <summary>Adds up to <paramref name="count"/> distinct random endpoints other than <paramref name="self"/> to <paramref name="picked"/> (cleared first).</summary>
    internal void PickPeers(string self, int count, List<string> picked)
    {
        picked.Clear();
        lock (_gate)
        {
            // A partial Fisher-Yates shuffle of the other addresses (in the order added), done
            // sparsely: only the few positions swapped are remembered, so a pick costs O(count)
            // whatever the network's size, with the same draws and the same peers as shuffling a copy.
            int selfAt = _addressIndex.GetValueOrDefault(self, -1);
            int others = selfAt < 0 ? _addresses.Count : _addresses.Count - 1;
            int take = Math.Min(count, others);
            Dictionary<int, int> swapped = _swapped;
            swapped.Clear();
            for (int i = 0; i < take; i++)
            {
                int j = _random.Next(i, others);
                int atJ = swapped.GetValueOrDefault(j, j);
                swapped[j] = swapped.GetValueOrDefault(i, i);
                picked.Add(_addresses[selfAt >= 0 && atJ >= selfAt ? atJ + 1 : atJ]);
            }
        }
    }

    private bool Happens(double probability) => probability > 0 && _random.NextDouble() < probability;

    private bool CanReach(string from, string to)
    {
        foreach (HashSet<string> cut in _cuts)
        {
            if (cut.Contains(from) != cut.Contains(to))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A copy of a payload in a pooled buffer, returned to the pool once the message is delivered or
    /// dropped: a large simulated mesh sends thousands of messages a virtual second, and a fresh array
    /// for each was the largest share of its allocations (and of its collector's work).
    /// </summary>
    private byte[] Copy(ReadOnlySpan<byte> payload)
    {
        byte[] copy = payload.Length <= _pooledBytes && _buffers.TryPop(out byte[]? pooled) ? pooled
            : new byte[Math.Max(payload.Length, _pooledBytes)];
        payload.CopyTo(copy);
        return copy;
    }

    /// <summary>The length of a pooled buffer on a network whose default links are <paramref name="conditions"/>.</summary>
    private static int PooledLength(LinkConditions conditions) => Math.Min(conditions.Mtu, MaxPooledBufferBytes);

    /// <summary>Takes back a delivered or dropped message's buffer (under the gate).</summary>
    private void Recycle(byte[] buffer)
    {
        if (buffer.Length == _pooledBytes && _buffers.Count < MaxPooledBuffers)
        {
            _buffers.Push(buffer);
        }
    }

    private void Enqueue(string from, string to, byte[] payload, int length, LinkConditions link, DateTimeOffset now)
    {
        TimeSpan delay = link.Delay;
        if (link.Jitter > TimeSpan.Zero)
        {
            delay += TimeSpan.FromTicks((long)(link.Jitter.Ticks * _random.NextDouble()));
        }

        _inFlight.Enqueue(new InFlight(from, to, payload, length), (now + delay, _sequence++));
    }

    /// <summary>Arms the timer for the earliest message; true when one is due already (the caller delivers, outside the lock).</summary>
    private bool ArmTimer(DateTimeOffset now)
    {
        if (!_inFlight.TryPeek(out _, out (DateTimeOffset Due, long Sequence) next))
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return false;
        }

        TimeSpan wait = next.Due - now;
        if (wait <= TimeSpan.Zero)
        {
            return true;
        }

        _timer.Change(wait, Timeout.InfiniteTimeSpan);
        return false;
    }

    /// <summary>Delivers every due message in order; one pass at a time (a nested or concurrent call leaves the work to the running pass).</summary>
    private void Drain()
    {
        lock (_gate)
        {
            if (_draining || _disposed)
            {
                return;
            }

            _draining = true;
        }

        if (ParallelDelivery)
        {
            DrainInWaves();
            return;
        }

        bool finished = false;
        try
        {
            while (true)
            {
                InFlight message;
                PayloadReceiver? receiver;
                lock (_gate)
                {
                    DateTimeOffset now = _time.GetUtcNow();
                    if (_disposed || !_inFlight.TryPeek(out message, out (DateTimeOffset Due, long Sequence) next) || next.Due > now)
                    {
                        _draining = false;
                        finished = true;
                        if (!_disposed)
                        {
                            ArmTimer(now);
                        }

                        return;
                    }

                    _inFlight.Dequeue();
                    var count = new MessageCount(1, message.Length);
                    if (!_endpoints.TryGetValue(message.To, out receiver))
                    {
                        Count(CountersFor(message.From), Outcome.UnknownEndpoint, count);
                        Recycle(message.Payload);
                        continue;
                    }

                    Count(CountersFor(message.To), Outcome.Delivered, count);
                }

                try
                {
                    receiver(message.Payload.AsSpan(0, message.Length), message.From);
                }
                finally
                {
                    // The receiver sees the bytes only during its call (PayloadReceiver's contract): the buffer goes back now.
                    lock (_gate)
                    {
                        Recycle(message.Payload);
                    }
                }
            }
        }
        finally
        {
            if (!finished)
            {
                // A receive callback threw: let it propagate, and leave the rest queued for the timer.
                lock (_gate)
                {
                    _draining = false;
                    if (!_disposed && _inFlight.TryPeek(out _, out (DateTimeOffset Due, long Sequence) next))
                    {
                        TimeSpan wait = next.Due - _time.GetUtcNow();
                        _timer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.FromTicks(1), Timeout.InfiniteTimeSpan);
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Drain"/> for <see cref="ParallelDelivery"/>: every message due now is one wave,
    /// delivered per receiver in parallel; what the callbacks sent is then sent in the order one by
    /// one delivery would have sent it, and the next wave is what that made due.
    /// </summary>
    private void DrainInWaves()
    {
        Wave wave = _wave;
        ExceptionDispatchInfo? failure = null;
        try
        {
            while (failure is null)
            {
                lock (_gate)
                {
                    DateTimeOffset now = _time.GetUtcNow();
                    wave.Clear();
                    while (!_disposed && _inFlight.TryPeek(out InFlight message, out (DateTimeOffset Due, long Sequence) next) && next.Due <= now)
                    {
                        _inFlight.Dequeue();
                        var count = new MessageCount(1, message.Length);
                        if (!_endpoints.TryGetValue(message.To, out PayloadReceiver? receiver))
                        {
                            Count(CountersFor(message.From), Outcome.UnknownEndpoint, count);
                            Recycle(message.Payload);
                            continue;
                        }

                        Count(CountersFor(message.To), Outcome.Delivered, count);
                        wave.Add(this, message, receiver);
                    }

                    if (wave.Count == 0)
                    {
                        return;
                    }
                }

                failure = wave.Deliver();
                lock (_gate)
                {
                    for (int i = 0; i < wave.Count; i++)
                    {
                        Recycle(wave.Message(i).Payload);
                        foreach (Wave.Send send in wave.SendsOf(i))
                        {
                            if (!_disposed)
                            {
                                if (send.To is { } to)
                                {
                                    SendLocked(send.From, to, send.Payload.AsSpan(0, send.Length));
                                }
                                else
                                {
                                    foreach (string peer in PickPeers(send.From, send.Fanout))
                                    {
                                        SendLocked(send.From, peer, send.Payload.AsSpan(0, send.Length));
                                    }
                                }
                            }

                            Recycle(send.Payload);
                        }
                    }

                    wave.Clear();
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _draining = false;
                if (!_disposed)
                {
                    DateTimeOffset now = _time.GetUtcNow();
                    if (failure is not null && _inFlight.TryPeek(out _, out (DateTimeOffset Due, long Sequence) next) && next.Due <= now)
                    {
                        // A receive callback threw: the rest is left queued for the timer, as one by one.
                        _timer.Change(TimeSpan.FromTicks(1), Timeout.InfiniteTimeSpan);
                    }
                    else
                    {
                        ArmTimer(now);
                    }
                }
            }
        }

        failure?.Throw();
    }

    private Counters CountersFor(string address)
    {
        if (!_counters.TryGetValue(address, out Counters? counters))
        {
            counters = new Counters();
            _counters.Add(address, counters);
        }

        return counters;
    }

    private void Count(Counters endpoint, Outcome outcome, MessageCount count)
    {
        endpoint.Add(outcome, count);
        _total.Add(outcome, count);
    }

    private enum Outcome
    {
        Sent,
        Duplicated,
        Delivered,
        Lost,
        Partitioned,
        Oversize,
        UnknownEndpoint,
    }

    /// <summary>A message on its way: <see cref="Payload"/> is a pooled buffer of which the first <see cref="Length"/> bytes are the message.</summary>
    private readonly record struct InFlight(string From, string To, byte[] Payload, int Length);

    /// <summary>
    /// Messages in flight in (due time, sequence) order, as a priority queue of both would give them,
    /// but queued per due time: every message sent at one moment over links of one delay is due at
    /// one moment, and those are first in, first out (sequence numbers only grow), so a message costs
    /// O(1) to queue and take instead of O(log n) sifts through every message in flight.
    /// </summary>
    private sealed class InFlightQueue
    {
        private readonly PriorityQueue<Queue<(InFlight Message, long Sequence)>, long> _dueTimes = new();
        private readonly Dictionary<long, Queue<(InFlight Message, long Sequence)>> _byDue = [];
        private readonly Stack<Queue<(InFlight Message, long Sequence)>> _spare = new();

        public int Count { get; private set; }

        public void Enqueue(InFlight message, (DateTimeOffset Due, long Sequence) at)
        {
            long due = at.Due.UtcTicks;
            if (!_byDue.TryGetValue(due, out Queue<(InFlight Message, long Sequence)>? queue))
            {
                queue = _spare.TryPop(out Queue<(InFlight Message, long Sequence)>? spare) ? spare : new();
                _byDue.Add(due, queue);
                _dueTimes.Enqueue(queue, due);
            }

            queue.Enqueue((message, at.Sequence));
            Count++;
        }

        public bool TryPeek(out InFlight message, out (DateTimeOffset Due, long Sequence) at)
        {
            if (_dueTimes.TryPeek(out Queue<(InFlight Message, long Sequence)>? queue, out long due))
            {
                (message, long sequence) = queue.Peek();
                at = (new DateTimeOffset(due, TimeSpan.Zero), sequence);
                return true;
            }

            message = default;
            at = default;
            return false;
        }

        public void Dequeue()
        {
            Queue<(InFlight Message, long Sequence)> queue = _dueTimes.Peek();
            queue.Dequeue();
            Count--;
            if (queue.Count == 0)
            {
                _dueTimes.TryDequeue(out _, out long due);
                _byDue.Remove(due);
                _spare.Push(queue);
            }
        }

        public void Clear()
        {
            _dueTimes.Clear();
            _byDue.Clear();
            _spare.Clear();
            Count = 0;
        }
    }

    /// <summary>
    /// The messages of one wave (<see cref="ParallelDelivery"/>) grouped by receiver, and what each
    /// callback sent, kept in message order. Reused from wave to wave.
    /// </summary>
    private sealed class Wave
    {
        private readonly List<InFlight> _messages = [];
        private readonly List<PayloadReceiver> _receivers = [];
        private readonly List<Sends> _sends = [];
        private readonly Dictionary<string, int> _groupOf = new(StringComparer.Ordinal);
        private readonly List<List<int>> _groups = [];
        private int _groupCount;

        public int Count => _messages.Count;

        public InFlight Message(int i) => _messages[i];

        public List<Send> SendsOf(int i) => _sends[i].Items;

        public void Add(InMemoryNetwork network, InFlight message, PayloadReceiver receiver)
        {
            int i = _messages.Count;
            _messages.Add(message);
            _receivers.Add(receiver);
            if (_sends.Count <= i)
            {
                _sends.Add(new Sends(network));
            }

            if (!_groupOf.TryGetValue(message.To, out int group))
            {
                group = _groupCount++;
                _groupOf.Add(message.To, group);
                if (_groups.Count < _groupCount)
                {
                    _groups.Add([]);
                }
            }

            _groups[group].Add(i);
        }

        /// <summary>Runs the callbacks, each receiver's in order on one thread; the first failure, if any (the others still run).</summary>
        public ExceptionDispatchInfo? Deliver()
        {
            ExceptionDispatchInfo? failure = null;
            if (_groupCount == 1)
            {
                DeliverGroup(0, ref failure);
                return failure;
            }

            Lock gate = new();
            Parallel.For(0, _groupCount, group =>
            {
                ExceptionDispatchInfo? own = null;
                DeliverGroup(group, ref own);
                if (own is not null)
                {
                    lock (gate)
                    {
                        failure ??= own;
                    }
                }
            });
            return failure;
        }

        public void Clear()
        {
            _messages.Clear();
            _receivers.Clear();
            foreach (Sends sends in _sends)
            {
                sends.Items.Clear();
            }

            for (int g = 0; g < _groupCount; g++)
            {
                _groups[g].Clear();
            }

            _groupOf.Clear();
            _groupCount = 0;
        }

        private void DeliverGroup(int group, ref ExceptionDispatchInfo? failure)
        {
            foreach (int i in _groups[group])
            {
                InFlight message = _messages[i];
                t_sends = _sends[i];
                try
                {
                    _receivers[i](message.Payload.AsSpan(0, message.Length), message.From);
                }
                catch (Exception ex)
                {
                    // Thrown again once the wave is done (as one by one would have thrown it); this receiver's later messages are not delivered.
                    failure = ExceptionDispatchInfo.Capture(ex);
                    return;
                }
                finally
                {
                    t_sends = null;
                }
            }
        }

        /// <summary>What one receive callback sent: to one address, or (no address) to <see cref="Send.Fanout"/> random peers.</summary>
        public readonly record struct Send(string From, string? To, int Fanout, byte[] Payload, int Length);

        /// <summary>The sends of one callback.</summary>
        public sealed class Sends(InMemoryNetwork network)
        {
            public InMemoryNetwork Network { get; } = network;

            public List<Send> Items { get; } = [];

            public void Add(string from, string? to, int fanout, byte[] payload, int length) => Items.Add(new Send(from, to, fanout, payload, length));
        }
    }

    private sealed class Counters
    {
        private readonly MessageCount[] _counts = new MessageCount[Enum.GetValues<Outcome>().Length];

        public void Add(Outcome outcome, MessageCount count) => _counts[(int)outcome] += count;

        public TrafficCounters Snapshot() => new()
        {
            Sent = _counts[(int)Outcome.Sent],
            Duplicated = _counts[(int)Outcome.Duplicated],
            Delivered = _counts[(int)Outcome.Delivered],
            Lost = _counts[(int)Outcome.Lost],
            Partitioned = _counts[(int)Outcome.Partitioned],
            Oversize = _counts[(int)Outcome.Oversize],
            UnknownEndpoint = _counts[(int)Outcome.UnknownEndpoint],
        };
    }
}
