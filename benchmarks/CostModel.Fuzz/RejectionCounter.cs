using System.Diagnostics.Metrics;

namespace CostModel.Fuzz;

/// <summary>
/// Listens to <c>costmodel.gossip.rejected</c> on one receiver's meter: counts the reason
/// <c>internal-error</c> (what <c>Receive</c>'s last-resort catch reports: a bug, whatever the
/// input) and remembers the reasons of the current input, for the replay mode's report.
/// </summary>
internal sealed class RejectionCounter : IDisposable
{
    private const string InstrumentName = "costmodel.gossip.rejected";
    private const string InternalError = "internal-error";

    private readonly MeterListener _listener = new();
    private readonly Meter _meter;
    private readonly List<string> _reasons = [];

    /// <summary>Starts listening to <paramref name="meter"/> (the receiver's own: other receivers in the process are not counted).</summary>
    public RejectionCounter(Meter meter)
    {
        _meter = meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _meter) && instrument.Name == InstrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>How many times <c>internal-error</c> was counted since this listener started.</summary>
    public long InternalErrors { get; private set; }

    /// <summary>The reasons counted since <see cref="ClearReasons"/>, in order.</summary>
    public IReadOnlyList<string> Reasons => _reasons;

    /// <summary>Forgets the reasons of the previous input.</summary>
    public void ClearReasons() => _reasons.Clear();

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    // Receive runs on the fuzzing thread only, so the measurements arrive there: no locking.
    private void OnMeasurement(Instrument instrument, long measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key != "reason" || tag.Value is not string reason)
            {
                continue;
            }

            if (reason == InternalError)
            {
                InternalErrors += measurement;
            }

            // Bounded: a message has at most 64 records, so at most a few dozen reasons an input.
            _reasons.Add(reason);
        }
    }
}
