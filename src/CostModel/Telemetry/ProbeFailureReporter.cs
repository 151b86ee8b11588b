namespace CostModel.Telemetry;

/// <summary>
/// Where probes report a signal they could not read: counted by probe and reason (a metric) and
/// logged at Debug. Probes turn the failure into an Unknown reading themselves; this records it.
/// </summary>
public interface IProbeFailureReporter
{
    /// <summary>Records one failed read.</summary>
    /// <param name="probe">The probe's name.</param>
    /// <param name="reason">A short, low-cardinality reason ("missing", "access-denied", "garbage").</param>
    /// <param name="detail">The detail for the log (a path, an exception message).</param>
    void Report(string probe, string reason, string detail);
}
