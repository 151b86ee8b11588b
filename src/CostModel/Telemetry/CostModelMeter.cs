namespace CostModel.Telemetry;

/// <summary>The meter every CostModel instrument is on (docs/configuration.md, "Metrics", lists them).</summary>
public static class CostModelMeter
{
    /// <summary>
    /// "CostModel": listen to it with OpenTelemetry (<c>AddMeter("CostModel")</c>) or
    /// <c>dotnet-counters monitor --counters CostModel</c>. Created through the host's
    /// <see cref="System.Diagnostics.Metrics.IMeterFactory"/> when it registered one (<c>AddMetrics()</c>).
    /// </summary>
    public const string Name = "CostModel";
}
