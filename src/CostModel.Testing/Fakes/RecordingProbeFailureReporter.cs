using System.Collections.Concurrent;
using CostModel.Telemetry;

namespace CostModel.Testing.Fakes;

/// <summary>
/// Records what probes report as failed reads, for tests of a probe: construct the probe with it
/// and assert on <see cref="Reports"/>. Thread-safe (probes may report from background refreshes).
/// </summary>
public sealed class RecordingProbeFailureReporter : IProbeFailureReporter
{
    private readonly ConcurrentQueue<(string Probe, string Kind, string Detail)> _reports = new();

    /// <summary>Every report so far, in order.</summary>
    public IReadOnlyList<(string Probe, string Kind, string Detail)> Reports => [.. _reports];

    /// <summary>The kinds reported so far, in order ("missing", "garbage", ...).</summary>
    public IEnumerable<string> Kinds => _reports.Select(r => r.Kind);

    /// <inheritdoc />
    public void Report(string probe, string reason, string detail) => _reports.Enqueue((probe, reason, detail));

    /// <summary>Forgets every report.</summary>
    public void Clear() => _reports.Clear();
}
