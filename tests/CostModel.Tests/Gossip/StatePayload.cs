using System.Text;
using CostModel.Gossip.Wire;

namespace CostModel.Tests.Gossip;

/// <summary>A state record's payload as the encoder writes it, and its reading back: for tests that cut, pad or flip its bytes.</summary>
internal static class StatePayload
{
    /// <summary>The payload (after the record header) of <paramref name="s"/> under <paramref name="id"/>.</summary>
    public static byte[] Write(in WireNodeState s, DateTimeOffset now, string id = "n")
    {
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, Encoding.UTF8.GetBytes(id), s, now.UtcTicks, out int written));
        return buffer[WireFormat.RecordHeaderBytes..written];
    }

    /// <summary>The payload (after the record header) of this node's own state <paramref name="s"/> under <paramref name="id"/>.</summary>
    public static byte[] Write(in WireOwnState s, DateTimeOffset now, string id = "n")
    {
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, Encoding.UTF8.GetBytes(id), s, now.UtcTicks, out int written));
        return buffer[WireFormat.RecordHeaderBytes..written];
    }

    /// <summary>Reads a payload as a receiver does at <paramref name="now"/>.</summary>
    public static WireRejection Read(byte[] payload, DateTimeOffset now, out WireNodeState read)
    {
        Span<char> chars = stackalloc char[64];
        return WireCodec.TryReadState(payload, now.UtcTicks, chars, out _, out read);
    }
}
