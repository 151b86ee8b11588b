using Microsoft.Extensions.Logging;

namespace CostModel.Telemetry;

/// <summary>
/// Source-generated log messages. Event ids are stable: 1xxx collection, 2xxx scoring and pricing,
/// 3xxx gossip (the routing range, taken first by gossip), 5xxx the mesh view and event streams,
/// 6xxx configuration.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Probe {Probe} failed ({Reason}): {Detail}")]
    public static partial void ProbeFailed(ILogger logger, string probe, string reason, string detail);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Probe {Probe} threw; its group is Unknown for this snapshot")]
    public static partial void ProbeThrew(ILogger logger, string probe, Exception exception);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Using the bundled API price table dated {AsOf}; load a current file (CostModel:Pricing:Files) for current prices")]
    public static partial void BundledPricesInUse(ILogger logger, string asOf);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Price table {Origin} is dated {AsOf}, {Days} days old; prices may have changed")]
    public static partial void PriceTableOld(ILogger logger, string origin, string asOf, int days);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Price table {Origin} is invalid; keeping the last good table: {Error}")]
    public static partial void PriceTableInvalid(ILogger logger, string origin, string error);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "The host price source failed; keeping the last good table")]
    public static partial void PriceSourceFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Power source changed during a collection pass; pass redone (attempt {Attempt})")]
    public static partial void PassRedone(ILogger logger, int attempt);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Probe {Probe} replaced by a later registration with the same name")]
    public static partial void ProbeReplaced(ILogger logger, string probe);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Gossip from {From} refused: {Reason}")]
    public static partial void GossipRejected(ILogger logger, string from, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Node {NodeId} is now {Change}")]
    public static partial void MeshChanged(ILogger logger, string nodeId, string change);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Gossip round failed; the next round runs as scheduled")]
    public static partial void GossipRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Gossip input from {From} threw while being handled; dropped")]
    public static partial void GossipReceiveFailed(ILogger logger, string from, Exception exception);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "Published this node's factors (version {Version}, {Reason})")]
    public static partial void GossipPublished(ILogger logger, long version, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Reloaded gossip options refused; keeping the last good settings")]
    public static partial void GossipOptionsRefused(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Gossip is sealed with {Keys} key(s): {Protection}")]
    public static partial void GossipKeyring(ILogger logger, int keys, string protection);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Gossip runs without keys (AllowUnauthenticated): anyone who can reach this node can read the mesh's state and forge any node's")]
    public static partial void GossipUnauthenticated(ILogger logger);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug, Message = "Gossip from {From} held: the sender is not proven live; challenged")]
    public static partial void GossipUnproven(ILogger logger, string from);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Error, Message = "This node's factors are not published: every peer would refuse generation {Generation} ({Why})")]
    public static partial void GossipGenerationUnpublishable(ILogger logger, long generation, string why);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "Gossip is behind: {LateShare:P0} of the {Merged} node states merged in the last minute arrived older than the {HeartbeatSeconds} s heartbeat (mean age {MeanAgeSeconds:F1} s), so the routers' views are stale; the mesh is larger than the gossip's budget carries: shorten the gossip round (CostModel:Gossip:Interval in push mode; in pull mode the transport's, e.g. CostModel:Gossip:Udp:GossipInterval) or raise the MTU (CostModel:Gossip:Mtu and the transport's) (docs/gossip-wire-format.md, \"How large a mesh the budget carries\")")]
    public static partial void GossipBehind(ILogger logger, double lateShare, int merged, double heartbeatSeconds, double meanAgeSeconds);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Gossip has caught up: {LateShare:P0} of the {Merged} node states merged in the last minute arrived older than the heartbeat (mean age {MeanAgeSeconds:F1} s)")]
    public static partial void GossipCaughtUp(ILogger logger, double lateShare, int merged, double meanAgeSeconds);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "A subscriber of {Stream} threw; the other subscribers got the event and the producer carried on")]
    public static partial void SubscriberThrew(ILogger logger, string stream, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "A subscriber of {Stream} threw again ({Failures} failures)")]
    public static partial void SubscriberThrewAgain(ILogger logger, string stream, int failures, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "Mesh view entry {NodeId} could not be built ({Reason}); it is left out of the view until it changes")]
    public static partial void MeshEntryUnreadable(ILogger logger, string nodeId, string reason, Exception exception);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "{Key} cannot change while running: the reload's {Refused} is refused, {Kept} is kept (restart to apply it)")]
    public static partial void OptionFixedAtStart(ILogger logger, string key, string refused, string kept);
}
