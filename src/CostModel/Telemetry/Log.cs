using Microsoft.Extensions.Logging;

namespace CostModel.Telemetry;

/// <summary>Source-generated log messages. Event ids are stable: 1xxx collection, 2xxx scoring, 3xxx routing, 4xxx gossip.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Probe {Probe} failed ({Reason}): {Detail}")]
    public static partial void ProbeFailed(ILogger logger, string probe, string reason, string detail);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Probe {Probe} threw; its group is Unknown for this snapshot")]
    public static partial void ProbeThrew(ILogger logger, string probe, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Power source changed during a collection pass; pass redone (attempt {Attempt})")]
    public static partial void PassRedone(ILogger logger, int attempt);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Probe {Probe} replaced by a later registration with the same name")]
    public static partial void ProbeReplaced(ILogger logger, string probe);
}
