using System.Reactive.Concurrency;
using System.Reactive.Linq;
using CostModel.Factors;
using CostModel.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CostModel.Collection;

/// <summary>
/// Runs the registered probes in group order and assembles <see cref="NodeCostFactors"/>.
/// The power source is read at the start and again at the end of a pass; if it changed, the
/// pass is redone (at most <see cref="CollectionOptions.MaxPassRetries"/> times) so that a
/// snapshot never mixes load measured on mains with "on battery". The last pass is kept either way.
/// </summary>
internal sealed class CostCollector : ICostCollector
{
    private readonly ISignalProbe[] _probes;
    private readonly ISignalProbe[] _powerProbes;
    private readonly IOptionsMonitor<CollectionOptions> _options;

    // Fixed at start (a reload cannot change it), so every snapshot carries the same id as gossip.
    private readonly string _nodeId;
    private readonly TimeProvider _timeProvider;
    private readonly CostModelMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SnapshotBuilder _builder;
    private readonly SnapshotBuilder _powerCheck;
    private readonly SnapshotBuilder _unprobed;
    private readonly RoutedRate? _routed;
    private readonly Lock _gate = new();
    private readonly long _generation;
    private long _version;
    private long _lastCollectedTicks;

    public CostCollector(
        IEnumerable<ISignalProbe> probes,
        IOptionsMonitor<CollectionOptions> options,
        IOptions<CostModelOptions> node,
        TimeProvider timeProvider,
        CostModelMetrics metrics,
        ILogger<CostCollector>? logger = null,
        RoutedRate? routed = null)
    {
        logger ??= NullLogger<CostCollector>.Instance;
        ArgumentNullException.ThrowIfNull(probes);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(node);
        _options = options;
        _nodeId = node.Value.NodeId;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
        _routed = routed;

        // A later registration with the same name replaces an earlier one; then group order,
        // registration order within a group.
        var byName = new Dictionary<string, (int Order, ISignalProbe Probe)>(StringComparer.Ordinal);
        int order = 0;
        foreach (ISignalProbe probe in probes)
        {
            if (byName.ContainsKey(probe.Name))
            {
                Log.ProbeReplaced(logger, probe.Name);
            }

            byName[probe.Name] = (order++, probe);
        }

        _probes = [.. byName.Values.OrderBy(p => p.Probe.Group).ThenBy(p => p.Order).Select(p => p.Probe)];
        _powerProbes = [.. _probes.Where(p => p.Group == SignalGroup.Power)];
        // Groups no probe fills say so, instead of the generic "not collected". Built once.
        _unprobed = new SnapshotBuilder(timeProvider);
        foreach (SignalGroup group in Enum.GetValues<SignalGroup>())
        {
            if (!_probes.Any(p => p.Group == group))
            {
                _unprobed.SetUnknown(group, $"no probe registered for the {group} group on this platform", null);
            }
        }

        _builder = new SnapshotBuilder(timeProvider);
        _powerCheck = new SnapshotBuilder(timeProvider);

        // The generation is the start time in milliseconds: it changes on every restart and
        // grows across restarts (the convention of Cassandra's and memberlist's incarnations).
        _generation = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
    }

    /// <summary>The probes in the order they run (after replacement by name).</summary>
    internal IReadOnlyList<ISignalProbe> Probes => _probes;

    /// <summary>When the last snapshot was taken (UTC, the injected clock), or null before the first: for the health check.</summary>
    internal DateTimeOffset? LastCollectedAt => Volatile.Read(ref _lastCollectedTicks) is long ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>The sample interval in force.</summary>
    internal TimeSpan SampleInterval => _options.CurrentValue.SampleInterval;

    public NodeCostFactors Collect()
    {
        lock (_gate)
        {
            CollectionOptions options = _options.CurrentValue;
            int maxRetries = options.MaxPassRetries;
            for (int attempt = 0; ; attempt++)
            {
                _builder.CopyFrom(_unprobed);
                foreach (ISignalProbe probe in _probes)
                {
                    Run(probe, _builder);
                }

                if (_powerProbes.Length == 0 || attempt >= maxRetries || !PowerSourceChanged())
                {
                    break;
                }

                _metrics.PassRetried();
                Log.PassRedone(_logger, attempt + 1);
            }

            ApplyOverrides(options);
            _metrics.SnapshotCollected();
            Volatile.Write(ref _lastCollectedTicks, _timeProvider.GetUtcNow().UtcTicks);
            return new NodeCostFactors(_nodeId, _generation, ++_version, _timeProvider.GetUtcNow())
            {
                Power = _builder.Power,
                Container = _builder.Container,
                Compute = _builder.Compute,
                Gpu = _builder.Gpu,
                Thermal = _builder.Thermal,
                Network = _builder.Network,
                Pending = _routed is null ? _builder.Pending : _builder.Pending with { RoutedPerSecond = _routed.Read() },
            };
        }
    }

    public IObservable<NodeCostFactors> Observe(IScheduler scheduler, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        if (interval is { } i && i <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), i, "The sampling interval must be positive.");
        }

        return Observable.Defer(() =>
        {
            TimeSpan period = interval ?? _options.CurrentValue.SampleInterval;
            var trends = new TrendEstimator(_options.CurrentValue);
            return Observable.Timer(TimeSpan.Zero, period, scheduler)
                .Select(_ => trends.Add(Collect()));
        });
    }

    private bool PowerSourceChanged()
    {
        _powerCheck.Reset();
        foreach (ISignalProbe probe in _powerProbes)
        {
            Run(probe, _powerCheck);
        }

        Reading<PowerSource> before = _builder.Power.Source;
        Reading<PowerSource> after = _powerCheck.Power.Source;
        bool changed = before.HasValue != after.HasValue || (before.HasValue && before.RawValue != after.RawValue);
        if (!changed)
        {
            // Keep the end-of-pass power reading: it is the newer one.
            _builder.Power = _powerCheck.Power;
        }

        return changed;
    }

    private void Run(ISignalProbe probe, SnapshotBuilder builder)
    {
        try
        {
            probe.Collect(builder);
        }
#pragma warning disable CA1031 // A probe must never end a collection: any failure becomes Unknown with its reason.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            string reason = $"probe {probe.Name} failed: {ex.GetType().Name}: {ex.Message}";
            _metrics.ProbeFailed(probe.Name, ex.GetType().Name);
            Log.ProbeThrew(_logger, probe.Name, ex);
            builder.SetUnknown(probe.Group, reason, _timeProvider.GetUtcNow());
        }
    }

    private void ApplyOverrides(CollectionOptions options)
    {
        bool? metered = options.Metered;
        string source = "CostModel:Collection:Metered";
        if (metered is null && _builder.Network.DefaultInterface is { } iface
            && options.MeteredInterfaces.TryGetValue(iface, out bool perInterface))
        {
            metered = perInterface;
            source = "CostModel:Collection:MeteredInterfaces";
        }

        if (metered is { } value)
        {
            _builder.Network = _builder.Network with { Metered = Reading.Overridden(value, _timeProvider.GetUtcNow(), source) };
        }
    }
}
