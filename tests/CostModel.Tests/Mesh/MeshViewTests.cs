using System.Reactive;
using CostModel.Mesh;
using CostModel.Routing;
using CostModel.Telemetry;
using CostModel.Tests.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace CostModel.Tests.Mesh;

/// <summary>The mesh view under broken entries and hostile subscribers (issue 12, items 1 and 9).</summary>
public sealed class MeshViewTests : IDisposable
{
    // A guard against a hang, never a wait for something to happen.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly RouterFixture _f = new();
    private readonly FakeLogCollector _logs = new();

    public void Dispose() => _f.Dispose();

    private CostModelMetrics Metrics => _f.Services.GetRequiredService<CostModelMetrics>();

    [Fact]
    public void An_entry_that_cannot_be_built_is_left_out_reported_once_and_read_again_when_it_changes()
    {
        using var view = new MeshView(16, Metrics, new FakeLogger(_logs));
        using var unreadable = new MetricCollector<long>(Metrics.Meter, "costmodel.mesh.entries_unreadable");
        var broken = new BrokenSource(_f.Node("broken"));
        Assert.True(view.Upsert(_f.Node("a")));
        lock (view.Gate)
        {
            Assert.True(view.TryAddSourceLocked(broken));
        }

        Assert.Equal(["a"], view.Nodes.Select(n => n.NodeId));
        FakeLogRecord log = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 5003);
        Assert.Equal(LogLevel.Debug, log.Level);
        Assert.Contains("broken", log.Message, StringComparison.Ordinal);
        Assert.Equal("InvalidDataException", Assert.Single(unreadable.GetMeasurementSnapshot()).Tags["reason"]);

        // Another change rebuilds the view; the broken state is not built (nor reported) again.
        Assert.True(view.Upsert(_f.Node("b")));
        Assert.Equal(["a", "b"], view.Nodes.Select(n => n.NodeId));
        Assert.Single(unreadable.GetMeasurementSnapshot());
        Assert.Equal(1, broken.Builds);

        // A newer state that builds shows up.
        broken.Broken = false;
        lock (view.Gate)
        {
            broken.MarkChanged();
            view.InvalidateLocked();
        }

        Assert.Equal(["a", "broken", "b"], view.Nodes.Select(n => n.NodeId));
    }

    [Fact]
    public void Routing_carries_on_past_an_entry_that_cannot_be_built()
    {
        _f.Add(_f.Node("a"));
        lock (_f.View.Gate)
        {
            Assert.True(_f.View.TryAddSourceLocked(new BrokenSource(_f.Node("broken"))));
        }

        RouteDecision decision = _f.Router.Route(RouterFixture.Request());

        Assert.Equal("a", decision.TargetId);
        Assert.Equal(1, decision.CandidateCount);
        decision.Lease.Dispose();
    }

    [Fact]
    public void A_throwing_change_subscriber_never_breaks_the_writer_and_the_others_still_hear()
    {
        using var failures = new MetricCollector<long>(Metrics.Meter, "costmodel.stream.subscriber_failures");
        var heard = new List<MeshChange>();
        using IDisposable thrower = _f.View.Changes.Subscribe(Observer.Create<MeshChange>(_ => throw new InvalidOperationException("subscriber bug")));
        using IDisposable listener = _f.View.Changes.Subscribe(Observer.Create<MeshChange>(heard.Add));

        Assert.True(_f.View.Upsert(_f.Node("a")));
        Assert.True(_f.View.Remove("a"));

        Assert.Equal([MeshChangeKind.Joined, MeshChangeKind.Removed], heard.Select(c => c.Kind));
        Assert.Empty(_f.View.Nodes);
        Assert.Equal(2, failures.GetMeasurementSnapshot().Count);
        Assert.All(failures.GetMeasurementSnapshot(), m => Assert.Equal("mesh.changes", m.Tags["stream"]));
    }

    [Fact]
    public async Task Suspect_decided_before_Dead_is_heard_before_it_whichever_writer_delivers_first()
    {
        // The gossip adapter's timer decides Suspect and its receive thread Dead, each under the view's
        // gate; the timer is held between deciding and delivering, the way a preempted thread is.
        var heard = new List<MeshChangeKind>();
        using IDisposable listener = _f.View.Changes.Subscribe(Observer.Create<MeshChange>(c => heard.Add(c.Kind)));
        DateTimeOffset at = _f.Time.GetUtcNow();
        using var decided = new ManualResetEventSlim();
        using var mayDeliver = new ManualResetEventSlim();
        Task timer = Task.Factory.StartNew(() =>
        {
            lock (_f.View.Gate)
            {
                _f.View.EnqueueChangeLocked(new MeshChange("n1", MeshChangeKind.Suspect, at));
            }

            decided.Set();
            mayDeliver.Wait(Guard, TestContext.Current.CancellationToken);
            _f.View.DeliverChanges();
        }, TaskCreationOptions.LongRunning);

        Assert.True(decided.Wait(Guard, TestContext.Current.CancellationToken));
        lock (_f.View.Gate)
        {
            _f.View.EnqueueChangeLocked(new MeshChange("n1", MeshChangeKind.Dead, at));
        }

        _f.View.DeliverChanges();
        mayDeliver.Set();
        await timer.WaitAsync(Guard, TestContext.Current.CancellationToken);

        Assert.Equal([MeshChangeKind.Suspect, MeshChangeKind.Dead], heard);
    }

    [Fact]
    public async Task Changes_to_one_node_from_many_threads_reach_a_subscriber_one_at_a_time_in_the_order_made()
    {
        // Several threads join, update and remove the same node. Made under the view's lock, the
        // changes always form a valid history (Joined, Updated..., Removed, Joined, ...); heard out of
        // the order made, the history breaks (an Updated after Removed, two Joined in a row).
        const int Threads = 4;
        const int Rounds = 2_000;
        MeshNode node = _f.Node("shared");
        int inside = 0;
        int mostInside = 0;
        int heard = 0;
        bool present = false;
        var broken = new List<string>();
        using IDisposable listener = _f.View.Changes.Subscribe(Observer.Create<MeshChange>(c =>
        {
            int now = Interlocked.Increment(ref inside);
            int seen;
            while (now > (seen = Volatile.Read(ref mostInside)) && Interlocked.CompareExchange(ref mostInside, now, seen) != seen)
            {
            }

            bool valid = c.Kind switch
            {
                MeshChangeKind.Joined => !present,
                MeshChangeKind.Updated => present,
                MeshChangeKind.Removed => present,
                _ => false,
            };
            if (!valid && broken.Count < 10)
            {
                broken.Add($"{c.Kind} at change {heard} (present: {present})");
            }

            present = c.Kind != MeshChangeKind.Removed;
            heard++;
            Interlocked.Decrement(ref inside);
        }));

        using var start = new Barrier(Threads);
        Task[] writers = [.. Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(Guard, TestContext.Current.CancellationToken);
            for (int i = 0; i < Rounds; i++)
            {
                _f.View.Upsert(node);
                _f.View.Upsert(node);
                _f.View.Remove(node.NodeId);
            }
        }, TaskCreationOptions.LongRunning))];
        await Task.WhenAll(writers).WaitAsync(Guard, TestContext.Current.CancellationToken);

        Assert.Equal(1, mostInside);
        Assert.Empty(broken);
        Assert.True(heard >= 2 * Threads * Rounds, $"every Upsert is heard ({heard})");
        Assert.Equal(present, _f.View.Nodes.Count == 1);
    }

    /// <summary>A kept entry whose state cannot be turned into a node (a corrupted gossip state) while <see cref="Broken"/>.</summary>
    private sealed class BrokenSource(MeshNode node) : MeshEntrySource(node.NodeId)
    {
        public bool Broken { get; set; } = true;

        public int Builds { get; private set; }

        protected override MeshNode? Build()
        {
            Builds++;
            return Broken ? throw new InvalidDataException("corrupted state") : node;
        }
    }
}
