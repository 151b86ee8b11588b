using Microsoft.Extensions.Logging;

namespace CostModel.Gossip.Nats;

/// <summary>Source-generated log messages of the NATS transport. Event ids 4601-4699 (4xxx is gossip; 46xx this transport). No line carries a credential: URLs are logged without user or password.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4601, Level = LogLevel.Information, Message = "NATS gossip on {Url} (server {Server}, max payload {MaxPayload} bytes): publishing on {StateSubject}, sync on {SyncSubject}, inbox {Inbox}, key-value bucket {Bucket}")]
    public static partial void Started(ILogger logger, string url, string server, long maxPayload, string stateSubject, string syncSubject, string inbox, string bucket);

    [LoggerMessage(EventId = 4602, Level = LogLevel.Warning, Message = "NATS connection lost ({Reason}); reconnecting. Gossip sent meanwhile is dropped and counted; a sync follows the reconnect")]
    public static partial void Disconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 4603, Level = LogLevel.Information, Message = "NATS connection back ({Reason}) after {Disconnects} losses; asking the mesh for its full state")]
    public static partial void Reconnected(ILogger logger, string reason, long disconnects);

    [LoggerMessage(EventId = 4604, Level = LogLevel.Warning, Message = "NATS trouble, {Kind}: {Reason} ({Unlogged} more since the last such line; all are counted)")]
    public static partial void TroubleFirst(ILogger logger, string kind, string reason, long unlogged);

    [LoggerMessage(EventId = 4605, Level = LogLevel.Debug, Message = "NATS trouble, {Kind}: {Reason} ({Unlogged} more since the last such line; all are counted)")]
    public static partial void TroubleAgain(ILogger logger, string kind, string reason, long unlogged);

    [LoggerMessage(EventId = 4606, Level = LogLevel.Error, Message = "The gossip adapter threw from {Member}; counted, the transport keeps running")]
    public static partial void AdapterThrew(ILogger logger, string member, Exception exception);

    [LoggerMessage(EventId = 4607, Level = LogLevel.Warning, Message = "The gossip adapter's Outgoing stream failed: nothing more is published")]
    public static partial void OutgoingFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4608, Level = LogLevel.Debug, Message = "The gossip adapter's Outgoing stream completed: nothing more is published")]
    public static partial void OutgoingCompleted(ILogger logger);

    [LoggerMessage(EventId = 4609, Level = LogLevel.Information, Message = "Read {Entries} entries of key-value bucket {Bucket} ({Refused} not well-formed); handed to the adapter, which proves each node before believing it")]
    public static partial void KeyValueRead(ILogger logger, int entries, string bucket, int refused);

    [LoggerMessage(EventId = 4611, Level = LogLevel.Debug, Message = "No node answered the sync request on {SyncSubject}: this node is the first of the mesh up")]
    public static partial void NoResponders(ILogger logger, string syncSubject);

    [LoggerMessage(EventId = 4612, Level = LogLevel.Warning, Message = "No NATS server reached at {Url} ({Reason}): the node starts alone and keeps trying, next in {Retry}")]
    public static partial void NotReachedAtStart(ILogger logger, string url, string reason, TimeSpan retry);

    [LoggerMessage(EventId = 4613, Level = LogLevel.Information, Message = "NATS server reached at {Url} after {Attempts} failed attempts: joining the mesh")]
    public static partial void ReachedLate(ILogger logger, string url, long attempts);

    [LoggerMessage(EventId = 4614, Level = LogLevel.Debug, Message = "The transport was disposed before it reached a server or while it joined ({Exception}): it stops there")]
    public static partial void StoppedBeforeJoining(ILogger logger, string exception);

    [LoggerMessage(EventId = 4610, Level = LogLevel.Information, Message = "NATS server {Server} enters lame-duck mode: the client moves to another server of the cluster or reconnects when it returns")]
    public static partial void LameDuck(ILogger logger, string server);
}
