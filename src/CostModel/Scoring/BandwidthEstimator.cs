using CostModel.DependencyInjection;
using System.Collections.Concurrent;
using CostModel.Mesh;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Scoring;

/// <summary>
/// Per-node bandwidth learned from transfers the host observed, blended with the pessimistic
/// prior: the prior counts as <see cref="PriorWeightSamples"/> sample, then each transfer moves the
/// estimate by 1/(n + prior weight), never less than <see cref="MinWeight"/> (an EWMA that keeps
/// adapting). The sample count is the confidence. Thread-safe; bounded to <see cref="MaxNodes"/> nodes,
/// and, given the mesh view, a node removed from the view is forgotten, so the table follows the
/// mesh instead of filling with nodes that left (once full, a new node's transfers would never count).
/// </summary>
internal sealed class BandwidthEstimator : IBandwidthEstimator, IDisposable
{
    /// <summary>The prior weighs as much as one observed transfer.</summary>
    public const double PriorWeightSamples = 1;

    /// <summary>0.2: after five transfers each new one still moves the estimate by a fifth, so a link that changes (Wi-Fi to tether) is followed within a handful of transfers.</summary>
    public const double MinWeight = 0.2;

    /// <summary>64 KiB: smaller transfers measure round-trip time, not bandwidth (a 10 Mbit/s link moves 64 KiB in 52 ms, about one RTT); they are ignored.</summary>
    public const long MinTransferBytes = 64 * 1024;

    /// <summary>4,096 nodes: the mesh view's default cap.</summary>
    public const int MaxNodes = 4_096;

    private readonly ConcurrentDictionary<string, Entry> _nodes = new(StringComparer.Ordinal);
    private readonly CostModelMetrics? _metrics;

    // Read once per options change: IOptionsMonitor.CurrentValue costs a dictionary lookup per call.
    private readonly LiveOptions<ScoringOptions> _options;

    // The prior as the scorer uses it (seconds per bit), replaced with the options.
    private volatile Sample _prior;

    // Counts nodes added and forgotten (not samples): a reader holding entries found before checks it.
    private long _membership;

    // The view's removals, forgotten here; null without a view.
    private readonly IDisposable? _removals;

    /// <summary>Creates an estimator whose prior comes from <see cref="ScoringOptions.BandwidthPriorBitsPerSecond"/>.</summary>
    /// <param name="options">The scoring options.</param>
    /// <param name="metrics">Counts refused transfers; optional.</param>
    /// <param name="view">The mesh view whose removed nodes are forgotten; null: only <see cref="Forget"/> forgets.</param>
    public BandwidthEstimator(IOptionsMonitor<ScoringOptions> options, CostModelMetrics? metrics = null, IMeshView? view = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = new LiveOptions<ScoringOptions>(options, o => _prior = new Sample(o.BandwidthPriorBitsPerSecond, 0));
        _prior = new Sample(_options.Current.BandwidthPriorBitsPerSecond, 0);
        _metrics = metrics;
        _removals = view?.Changes.Subscribe(new RemovalObserver(this));
    }

    /// <summary>Stops following option changes and the view.</summary>
    public void Dispose()
    {
        _removals?.Dispose();
        _options.Dispose();
    }

    /// <summary>Reports a completed transfer to or from <paramref name="nodeId"/>.</summary>
    /// <param name="nodeId">The peer.</param>
    /// <param name="bytes">Bytes moved.</param>
    /// <param name="duration">How long the transfer took.</param>
    /// <returns>True when the sample was used; false when it was too small or the node table is full.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Negative bytes or a non-positive duration.</exception>
    public bool ReportTransfer(string nodeId, long bytes, TimeSpan duration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeId);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A transfer takes a positive time.");
        }

        if (bytes < MinTransferBytes)
        {
            return false;
        }

        if (!_nodes.TryGetValue(nodeId, out Entry? entry))
        {
            if (_nodes.Count >= MaxNodes)
            {
                _metrics?.BoundExceeded("bandwidth-estimator-nodes");
                return false;
            }

            entry = _nodes.GetOrAdd(nodeId, _ => new Entry(_options.Current.BandwidthPriorBitsPerSecond));
            Interlocked.Increment(ref _membership);
        }

        entry.Add(bytes * 8 / duration.TotalSeconds);
        return true;
    }

    /// <summary>The estimate for a node: observed transfers blended with the prior, and how many transfers it rests on (0: the prior alone).</summary>
    /// <param name="nodeId">The peer.</param>
    /// <returns>Bits per second and the sample count.</returns>
    public (double BitsPerSecond, int Samples) Estimate(string nodeId)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        return Estimate(Find(nodeId));
    }

    /// <summary>Forgets a node (it left the mesh).</summary>
    /// <param name="nodeId">The peer.</param>
    public void Forget(string nodeId)
    {
        if (_nodes.TryRemove(nodeId, out _))
        {
            Interlocked.Increment(ref _membership);
        }
    }

    /// <summary>Changes whenever a node is added or forgotten; entries from <see cref="Find"/> stay current while it does not.</summary>
    internal long Membership => Volatile.Read(ref _membership);

    /// <summary>The node's entry, or null while it has none; it follows new samples without another lookup.</summary>
    internal Entry? Find(string nodeId) => _nodes.TryGetValue(nodeId, out Entry? entry) ? entry : null;

    /// <summary>The estimate of an entry from <see cref="Find"/> (the prior alone for null).</summary>
    internal (double BitsPerSecond, int Samples) Estimate(Entry? entry)
    {
        Sample current = entry?.Current ?? _prior;
        return (current.BitsPerSecond, current.Samples);
    }

    /// <summary>The prior alone, as a sample (what <see cref="Link"/> reads for a node without an entry).</summary>
    internal Sample Prior => _prior;

    /// <summary>The estimate as the scorer uses it: seconds per bit, and the samples behind it.</summary>
    internal (double SecondsPerBit, int Samples) Link(Entry? entry)
    {
        Sample current = entry?.Current ?? _prior;
        return (current.SecondsPerBit, current.Samples);
    }

    // Forgets what the view removed. The view's publisher logs and counts a subscriber's failure, so
    // nothing here needs to catch.
    private sealed class RemovalObserver(BandwidthEstimator owner) : IObserver<MeshChange>
    {
        public void OnNext(MeshChange value)
        {
            if (value.Kind == MeshChangeKind.Removed)
            {
                owner.Forget(value.NodeId);
            }
        }

        public void OnError(Exception error)
        {
            // The view never reports errors to subscribers (it logs its own); nothing to forget.
        }

        public void OnCompleted()
        {
            // The view ends with the container: the estimator keeps what it knows until it goes too.
        }
    }

    internal sealed class Entry(double prior)
    {
        private readonly Lock _gate = new();

        // Readers (the scorer, per candidate) take the immutable pair without a lock.
        private volatile Sample _current = new(prior, 0);

        public void Add(double bitsPerSecond)
        {
            lock (_gate)
            {
                Sample old = _current;
                int samples = old.Samples + 1;
                double weight = Math.Max(MinWeight, 1 / (samples + PriorWeightSamples));
                _current = new Sample(old.BitsPerSecond + (weight * (bitsPerSecond - old.BitsPerSecond)), samples);
            }
        }

        public Sample Current => _current;
    }

    /// <summary>An estimate and its inverse (computed once, not per candidate), immutable so readers need no lock.</summary>
    internal sealed class Sample(double bitsPerSecond, int samples)
    {
        public double BitsPerSecond { get; } = bitsPerSecond;

        public double SecondsPerBit { get; } = DefaultCostScorer.SecondsPer(bitsPerSecond);

        public int Samples { get; } = samples;
    }
}
