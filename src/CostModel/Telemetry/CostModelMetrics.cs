using System.Diagnostics.Metrics;

namespace CostModel.Telemetry;

/// <summary>
/// The library's instruments, on one <see cref="Meter"/> named <see cref="CostModelMeter.Name"/>
/// created through <see cref="IMeterFactory"/>. Names follow OpenTelemetry conventions.
/// </summary>
internal sealed class CostModelMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = CostModelMeter.Name;

    /// <summary>
    /// The state age histogram's buckets, seconds: fine below the 5 s heartbeat
    /// (<c>Gossip:MaxSilence</c>), where a mesh whose gossip keeps up lies, and on to the 15 s after
    /// which the scorer no longer trusts a load reading (<c>Scoring:ComputeMaxAge</c>) and the 30 s
    /// after which a silent node is dead (<c>Gossip:DeadAfter</c>). OpenTelemetry's default buckets
    /// (0, 5, 10, 25, ...) would put every healthy mesh in one.
    /// </summary>
    private static readonly double[] StateAgeBuckets = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60];

    private readonly Counter<long> _snapshots;
    private readonly Counter<long> _probeFailures;
    private readonly Counter<long> _passRetries;
    private readonly Counter<long> _boundsExceeded;
    private readonly Counter<long> _priceLoadFailures;
    private readonly Counter<long> _stalePriceTables;
    private readonly Counter<long> _bundledPrices;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _affinity;
    private readonly Counter<long> _ejections;
    private readonly Counter<long> _panics;
    private readonly Counter<long> _noRoute;
    private readonly Counter<long> _leasesExpired;
    private readonly Counter<long> _gossipReceived;
    private readonly Counter<long> _gossipRejected;
    private readonly Counter<long> _gossipMerged;
    private readonly Histogram<double> _gossipStateAge;
    private readonly Counter<long> _gossipPublished;
    private readonly Counter<long> _gossipSent;
    private readonly Counter<long> _gossipProofs;
    private readonly Counter<long> _optionsRefused;
    private readonly Counter<long> _meshChanges;
    private readonly Counter<long> _meshEntriesUnreadable;
    private readonly Counter<long> _subscriberFailures;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public CostModelMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _snapshots = Meter.CreateCounter<long>("costmodel.collector.snapshots", "{snapshot}", "Snapshots collected.");
        _probeFailures = Meter.CreateCounter<long>("costmodel.collector.probe_failures", "{failure}", "Probe reads that failed, by probe and reason.");
        _boundsExceeded = Meter.CreateCounter<long>("costmodel.bounds_exceeded", "{event}", "Inputs refused because a size bound was reached, by bound.");
        _priceLoadFailures = Meter.CreateCounter<long>("costmodel.pricing.load_failures", "{failure}", "Price tables that failed to load (the last good table was kept), by kind.");
        _stalePriceTables = Meter.CreateCounter<long>("costmodel.pricing.stale_tables", "{table}", "Price tables loaded that were older than the maximum age.");
        _bundledPrices = Meter.CreateCounter<long>("costmodel.pricing.bundled_in_use", "{load}", "Loads that used the bundled price table.");
        _decisions = Meter.CreateCounter<long>("costmodel.router.decisions", "{decision}", "Routing decisions, by target.");
        _affinity = Meter.CreateCounter<long>("costmodel.router.affinity", "{event}", "Affinity events: switched (a challenger beat the band) or broken (incumbent gone or too costly).");
        _ejections = Meter.CreateCounter<long>("costmodel.router.ejections", "{ejection}", "Targets ejected after consecutive failures (refused: the cap held).");
        _panics = Meter.CreateCounter<long>("costmodel.router.panic", "{decision}", "Decisions in panic mode (soft filters left nothing).");
        _noRoute = Meter.CreateCounter<long>("costmodel.router.no_route", "{decision}", "Requests no candidate could take.");
        _leasesExpired = Meter.CreateCounter<long>("costmodel.router.leases_expired", "{lease}", "Leases never completed that expired.");
        _gossipReceived = Meter.CreateCounter<long>("costmodel.gossip.received", "{message}", "Gossip messages handed to the adapter.");
        _gossipRejected = Meter.CreateCounter<long>("costmodel.gossip.rejected", "{item}", "Gossip messages or records refused, by reason.");
        _gossipMerged = Meter.CreateCounter<long>("costmodel.gossip.merged", "{record}", "Gossip records that changed the view, by kind.");
        _gossipStateAge = Meter.CreateHistogram(
            "costmodel.gossip.state_age",
            "s",
            "How old each node state merged into the view was: from its node's newest reading to the merge, relays included (how long the mesh's gossip takes to carry a node's news here).",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StateAgeBuckets });
        _gossipPublished = Meter.CreateCounter<long>("costmodel.gossip.published", "{publication}", "Publications of this node's factors, by reason.");
        _gossipSent = Meter.CreateCounter<long>("costmodel.gossip.sent", "{message}", "Gossip messages written for the host to send, by type.");
        _optionsRefused = Meter.CreateCounter<long>("costmodel.options.reload_refused", "{setting}", "Reloads refused for a setting fixed at start (the old value kept), by configuration key.");
        _gossipProofs = Meter.CreateCounter<long>("costmodel.gossip.proofs", "{event}", "Senders proven live (proven) and messages held until their sender answered a challenge (held).");
        _meshChanges = Meter.CreateCounter<long>("costmodel.mesh.changes", "{change}", "Mesh view changes, by kind.");
        _meshEntriesUnreadable = Meter.CreateCounter<long>("costmodel.mesh.entries_unreadable", "{entry}", "Mesh view entries that could not be built and were left out of the view, by exception type.");
        _subscriberFailures = Meter.CreateCounter<long>("costmodel.stream.subscriber_failures", "{exception}", "Exceptions thrown by subscribers of the library's event streams (caught, never thrown to the producer), by stream.");
        _passRetries = Meter.CreateCounter<long>("costmodel.collector.pass_retries", "{pass}", "Collection passes redone because the power source changed during the pass.");
    }

    /// <summary>The meter every instrument lives on.</summary>
    public Meter Meter { get; }

    internal void SnapshotCollected() => _snapshots.Add(1);

    internal void ProbeFailed(string probe, string reason) =>
        _probeFailures.Add(1, new KeyValuePair<string, object?>("probe", probe), new KeyValuePair<string, object?>("reason", reason));

    internal void PassRetried() => _passRetries.Add(1);

    internal void Decision(string target, Routing.RouteNotes flags)
    {
        if (_decisions.Enabled)
        {
            _decisions.Add(1, new KeyValuePair<string, object?>("target", target), new KeyValuePair<string, object?>("sticky", (flags & Routing.RouteNotes.StickyKept) != 0 ? "kept" : "no"));
        }
    }

    internal void AffinitySwitched() => _affinity.Add(1, new KeyValuePair<string, object?>("event", "switched"));

    internal void AffinityBroken() => _affinity.Add(1, new KeyValuePair<string, object?>("event", "broken"));

    internal void Ejected(string target) => _ejections.Add(1, new KeyValuePair<string, object?>("target", target), new KeyValuePair<string, object?>("result", "ejected"));

    internal void EjectionRefused() => _ejections.Add(1, new KeyValuePair<string, object?>("result", "refused-by-cap"));

    internal void RoutePanic() => _panics.Add(1);

    internal void NoRoute() => _noRoute.Add(1);

    internal void LeasesExpired(int count) => _leasesExpired.Add(count);

    internal void PriceLoadFailed(string kind) => _priceLoadFailures.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void StalePriceTable(string kind) => _stalePriceTables.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void BundledPricesInUse() => _bundledPrices.Add(1);

    internal void BoundExceeded(string bound) => _boundsExceeded.Add(1, new KeyValuePair<string, object?>("bound", bound));

    internal void GossipReceived() => _gossipReceived.Add(1);

    internal void GossipRejected(string reason) => _gossipRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void GossipMerged(string kind) => _gossipMerged.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void GossipStateAge(double seconds) => _gossipStateAge.Record(seconds);

    internal void GossipPublished(string reason) => _gossipPublished.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void GossipSent(string type) => _gossipSent.Add(1, new KeyValuePair<string, object?>("type", type));

    /// <summary>Publishes the router's tables as observable gauges (read when a listener collects, never on the routing path).</summary>
    internal void ObserveRouter(Func<int> activeLeases, Func<int> affinityKeys, Func<int> targetStates)
    {
        Meter.CreateObservableGauge("costmodel.router.leases.active", activeLeases, "{lease}", "Leases taken and not yet completed, disposed or expired.");
        Meter.CreateObservableGauge("costmodel.router.affinity_keys", affinityKeys, "{key}", "Affinity keys remembered (conversations kept on their node).");
        Meter.CreateObservableGauge("costmodel.router.targets", targetStates, "{target}", "Targets whose learned state (speed, failures, ejection) the router keeps.");
    }

    internal void OptionReloadRefused(string key) => _optionsRefused.Add(1, new KeyValuePair<string, object?>("key", key));

    internal void GossipProof(string outcome) => _gossipProofs.Add(1, new KeyValuePair<string, object?>("event", outcome));

    internal void MeshChanged(string kind) => _meshChanges.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void MeshEntryUnreadable(string reason) => _meshEntriesUnreadable.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void SubscriberFailed(string stream) => _subscriberFailures.Add(1, new KeyValuePair<string, object?>("stream", stream));
}
