using System.Text;

namespace CostModel.Gossip.Nats;

/// <summary>
/// A key-value entry: the key is the node id (as is when it is a valid key, else <c>=</c> and its
/// UTF-8 in hex); the value is a version byte (1), the length of the node's inbox (1 byte), the
/// inbox (ASCII), then the adapter's sealed message. The inbox is where the reader proves the node
/// (the adapter challenges a sender before believing it). Values are untrusted: read with bounds.
/// </summary>
internal static class KeyValueEntry
{
    public const byte Version = 1;

    /// <summary>The most bytes before the message: the version, the length and an inbox of up to 255 ASCII characters.</summary>
    public const int MaxHeaderBytes = 2 + byte.MaxValue;

    public static string KeyFor(string nodeId)
    {
        bool plain = nodeId.Length > 0 && nodeId[0] is not ('=' or '.') && nodeId[^1] != '.';
        foreach (char c in nodeId)
        {
            plain &= char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '/' or '.';
        }

        return plain ? nodeId : "=" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(nodeId));
    }

    public static byte[] Write(string inbox, ReadOnlySpan<byte> message)
    {
        byte[] value = new byte[2 + inbox.Length + message.Length];
        value[0] = Version;
        value[1] = checked((byte)inbox.Length);
        Encoding.ASCII.GetBytes(inbox, value.AsSpan(2));
        message.CopyTo(value.AsSpan(2 + inbox.Length));
        return value;
    }

    public static bool TryRead(ReadOnlySpan<byte> value, string inboxPrefix, out string inbox, out ReadOnlySpan<byte> message)
    {
        inbox = string.Empty;
        message = default;
        if (value.Length < 2 || value[0] != Version || value.Length < 2 + value[1] + 1)
        {
            return false;
        }

        ReadOnlySpan<byte> address = value.Slice(2, value[1]);
        foreach (byte b in address)
        {
            if (b >= 0x80)
            {
                return false;
            }
        }

        inbox = Encoding.ASCII.GetString(address);
        message = value[(2 + value[1])..];
        return Subjects.IsInbox(inbox, inboxPrefix);
    }
}
