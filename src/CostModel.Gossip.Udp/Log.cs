using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace CostModel.Gossip.Udp;

/// <summary>Source-generated log messages of the UDP transport. Event ids 4501-4599 (4xxx is gossip; 45xx this transport).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "UDP gossip on {LocalEndPoint}: {Seeds} seed peers, a round every {Interval} to {Fanout} peers, MTU {Mtu} bytes")]
    public static partial void Started(ILogger logger, IPEndPoint localEndPoint, int seeds, TimeSpan interval, int fanout, int mtu);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Debug, Message = "UDP receive failed ({SocketError}); counted, receiving continues")]
    public static partial void ReceiveFailed(ILogger logger, SocketError socketError);

    [LoggerMessage(EventId = 4503, Level = LogLevel.Warning, Message = "UDP receive failed {Count} times in a row ({SocketError}); pausing {Pause} before the next try")]
    public static partial void ReceiveKeepsFailing(ILogger logger, int count, SocketError socketError, TimeSpan pause);

    [LoggerMessage(EventId = 4504, Level = LogLevel.Debug, Message = "Dropped a received datagram of at least {Bytes} bytes: over the {Mtu}-byte MTU ({Unlogged} more since the last such line)")]
    public static partial void ReceivedOversize(ILogger logger, int bytes, int mtu, long unlogged);

    [LoggerMessage(EventId = 4505, Level = LogLevel.Debug, Message = "Dropped a datagram from {Peer}: {Max} datagrams already wait for the adapter ({Unlogged} more since the last such line)")]
    public static partial void QueueFull(ILogger logger, string peer, int max, long unlogged);

    [LoggerMessage(EventId = 4506, Level = LogLevel.Debug, Message = "UDP send to {Peer} failed ({SocketError}); counted")]
    public static partial void SendFailed(ILogger logger, string peer, SocketError socketError);

    [LoggerMessage(EventId = 4507, Level = LogLevel.Debug, Message = "Dropped a message to '{Address}': not an ip:port this socket can reach")]
    public static partial void InvalidAddress(ILogger logger, string address);

    [LoggerMessage(EventId = 4508, Level = LogLevel.Debug, Message = "Dropped an outgoing message of {Bytes} bytes: over the {Mtu}-byte MTU")]
    public static partial void SendOversize(ILogger logger, int bytes, int mtu);

    [LoggerMessage(EventId = 4509, Level = LogLevel.Warning, Message = "Seed peer '{Seed}' is skipped: {Reason}")]
    public static partial void SeedUnresolved(ILogger logger, string seed, string reason);

    [LoggerMessage(EventId = 4510, Level = LogLevel.Error, Message = "The gossip adapter threw from {Member}; counted, the transport keeps running")]
    public static partial void AdapterThrew(ILogger logger, string member, Exception exception);

    [LoggerMessage(EventId = 4511, Level = LogLevel.Warning, Message = "The gossip adapter's Outgoing stream failed: pushed messages stop, gossip rounds go on")]
    public static partial void OutgoingFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4512, Level = LogLevel.Debug, Message = "The gossip adapter's Outgoing stream completed: pushed messages stop, gossip rounds go on")]
    public static partial void OutgoingCompleted(ILogger logger);

    [LoggerMessage(EventId = 4513, Level = LogLevel.Debug, Message = "Peer table full ({Max} peers): forgot {Peer}, the one silent longest, for a newcomer")]
    public static partial void PeerEvicted(ILogger logger, int max, string peer);

    [LoggerMessage(EventId = 4514, Level = LogLevel.Debug, Message = "UDP send to {Peer} skipped: the transport was disposed meanwhile; counted as a send error")]
    public static partial void SendAfterDispose(ILogger logger, string peer);

    [LoggerMessage(EventId = 4515, Level = LogLevel.Debug, Message = "Dropped a datagram from {Sender}: {Budget} is spent ({Unlogged} more since the last such line)")]
    public static partial void ReceiveLimited(ILogger logger, string sender, string budget, long unlogged);

    [LoggerMessage(EventId = 4516, Level = LogLevel.Debug, Message = "Dropped a {Bytes}-byte message to {Address}, not a peer: {Budget} is spent ({Unlogged} more since the last such line)")]
    public static partial void SendLimited(ILogger logger, int bytes, string address, string budget, long unlogged);

    [LoggerMessage(EventId = 4517, Level = LogLevel.Debug, Message = "{Peer} is a gossip peer now: the adapter accepted its message")]
    public static partial void PeerAdmitted(ILogger logger, string peer);

    [LoggerMessage(EventId = 4518, Level = LogLevel.Debug, Message = "Forgot {Count} peers with no message accepted for {Timeout}; {Left} peers remain")]
    public static partial void PeersAgedOut(ILogger logger, int count, TimeSpan timeout, int left);
}
