using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CostModel.Telemetry;

/// <summary>Counts failures on the meter and logs them at Debug.</summary>
internal sealed class LoggingProbeFailureReporter(CostModelMetrics metrics, ILogger<LoggingProbeFailureReporter>? logger = null) : IProbeFailureReporter
{
    private readonly ILogger _logger = logger ?? NullLogger<LoggingProbeFailureReporter>.Instance;

    public void Report(string probe, string reason, string detail)
    {
        metrics.ProbeFailed(probe, reason);
        Log.ProbeFailed(_logger, probe, reason, detail);
    }
}
