namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// The latest path Network.framework reported for the default route (<c>nw_path_monitor</c>).
/// The macOS implementation is <see cref="NativePathMonitor"/>; updates arrive on its own dispatch
/// queue and <see cref="Latest"/> is read by the collector, so it is one immutable reference.
/// </summary>
internal interface IMacPathMonitor : IDisposable
{
    /// <summary>The latest update, or null before the first.</summary>
    PathUpdate? Latest { get; }
}

/// <summary>One path update, as <c>nw_path_get_status</c>, <c>nw_path_is_expensive</c> and <c>nw_path_is_constrained</c> gave it.</summary>
/// <param name="Status">The raw <c>nw_path_status_t</c> (0 invalid, 1 satisfied, 2 unsatisfied, 3 satisfiable).</param>
/// <param name="IsExpensive">The path uses an interface the system considers expensive: cellular, or a personal hotspot.</param>
/// <param name="IsConstrained">The path uses an interface in Low Data Mode.</param>
/// <param name="ReceivedAt">When the update arrived.</param>
internal sealed record PathUpdate(int Status, bool IsExpensive, bool IsConstrained, DateTimeOffset ReceivedAt);
