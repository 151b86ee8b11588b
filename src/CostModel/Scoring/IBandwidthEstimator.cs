namespace CostModel.Scoring;

/// <summary>
/// Link bandwidth to each peer, learned from transfers the host reports: the network term of a
/// candidate's cost uses it, a pessimistic prior (<see cref="ScoringOptions.BandwidthPriorBitsPerSecond"/>)
/// until observed transfers replace it. Registered by <c>AddCostModel</c>; thread-safe.
/// </summary>
public interface IBandwidthEstimator
{
    /// <summary>Reports a completed transfer to or from <paramref name="nodeId"/> (transfers under 64 KiB measure round-trip time, not bandwidth, and are ignored).</summary>
    /// <param name="nodeId">The peer.</param>
    /// <param name="bytes">Bytes moved.</param>
    /// <param name="duration">How long the transfer took.</param>
    /// <returns>True when the sample was used; false when it was too small or the table of peers is full.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Negative bytes or a non-positive duration.</exception>
    bool ReportTransfer(string nodeId, long bytes, TimeSpan duration);

    /// <summary>The estimate for a node: observed transfers blended with the prior, and how many transfers it rests on (0: the prior alone).</summary>
    /// <param name="nodeId">The peer.</param>
    /// <returns>Bits per second and the sample count.</returns>
    (double BitsPerSecond, int Samples) Estimate(string nodeId);

    /// <summary>Forgets a node (it left the mesh).</summary>
    /// <param name="nodeId">The peer.</param>
    void Forget(string nodeId);
}
