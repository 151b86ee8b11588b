using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// Finds one interface's counters in the buffer <c>sysctl NET_RT_IFLIST2</c> fills: a sequence of
/// routing messages, each starting with <c>u_short msglen; u_char version; u_char type</c>. The
/// <c>RTM_IFINFO2</c> messages are <see cref="IfMsgHdr2"/> (one per interface, followed by its
/// addresses as <c>RTM_NEWADDR</c> and <c>RTM_NEWMADDR2</c> messages, which are skipped).
/// </summary>
/// <remarks>
/// The buffer is the kernel's, but it is read as untrusted bytes: the walk advances by each
/// message's own length and stops at a length too short to hold its header (0 would loop forever)
/// or one running past the end; an <c>RTM_IFINFO2</c> message shorter than
/// <see cref="IfMsgHdr2"/> or of another version is not read. Every read is bounds-checked;
/// nothing is allocated unless something is wrong.
/// </remarks>
internal static class InterfaceList
{
    /// <summary><c>RTM_VERSION</c> (<c>&lt;net/route.h&gt;</c>): 5 since Mac OS X 10.0.</summary>
    internal const byte RtmVersion = 5;

    /// <summary><c>RTM_IFINFO2</c> (<c>&lt;net/route.h&gt;</c>): an <c>if_msghdr2</c>.</summary>
    internal const byte RtmIfInfo2 = 0x12;

    /// <summary>The common header every routing message starts with: <c>msglen</c> (2), <c>version</c> (1), <c>type</c> (1).</summary>
    internal const int CommonHeaderBytes = 4;

    /// <summary>The size of <see cref="IfMsgHdr2"/>: 160 bytes.</summary>
    internal static readonly int IfMsgHdr2Bytes = Unsafe.SizeOf<IfMsgHdr2>();

    /// <summary>Looks for the <c>RTM_IFINFO2</c> message of interface <paramref name="index"/>.</summary>
    public static InterfaceListResult Find(ReadOnlySpan<byte> buffer, uint index)
    {
        int offset = 0;
        int wrongVersion = 0;
        int tooShort = 0;
        while (offset < buffer.Length)
        {
            int remaining = buffer.Length - offset;
            if (remaining < CommonHeaderBytes)
            {
                return InterfaceListResult.Malformed(Invariant($"{remaining} trailing bytes at offset {offset} are shorter than a message header"));
            }

            ReadOnlySpan<byte> rest = buffer[offset..];
            int length = MemoryMarshal.Read<ushort>(rest);
            if (length < CommonHeaderBytes)
            {
                return InterfaceListResult.Malformed(Invariant($"the message at offset {offset} has length {length}, shorter than its own header"));
            }

            if (length > remaining)
            {
                return InterfaceListResult.Malformed(Invariant($"the message at offset {offset} claims {length} bytes but {remaining} remain (truncated)"));
            }

            if (rest[3] == RtmIfInfo2)
            {
                if (rest[2] != RtmVersion)
                {
                    wrongVersion++;
                }
                else if (length < IfMsgHdr2Bytes)
                {
                    tooShort++;
                }
                else
                {
                    IfMsgHdr2 header = MemoryMarshal.Read<IfMsgHdr2>(rest);
                    if (header.Index == index)
                    {
                        return InterfaceListResult.Found(new InterfaceCounters(header.Data.InputBytes, header.Data.OutputBytes, header.Data.BaudRate, header.Flags));
                    }
                }
            }

            offset += length;
        }

        if (wrongVersion > 0 || tooShort > 0)
        {
            return InterfaceListResult.Malformed(Invariant(
                $"interface index {index} not found; skipped {wrongVersion} RTM_IFINFO2 messages of a version other than {RtmVersion} and {tooShort} shorter than {IfMsgHdr2Bytes} bytes"));
        }

        return InterfaceListResult.Missing;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What an <c>RTM_IFINFO2</c> message says about one interface.</summary>
/// <param name="ReceiveBytes"><c>ifi_ibytes</c>.</param>
/// <param name="TransmitBytes"><c>ifi_obytes</c>.</param>
/// <param name="BaudRate"><c>ifi_baudrate</c>, bits per second.</param>
/// <param name="Flags"><c>ifm_flags</c>.</param>
internal readonly record struct InterfaceCounters(ulong ReceiveBytes, ulong TransmitBytes, ulong BaudRate, int Flags);

/// <summary>How a lookup in the interface list ended.</summary>
internal enum InterfaceListStatus
{
    /// <summary>The interface's message was found and read.</summary>
    Found,

    /// <summary>The list was walked to its end and has no message for the interface.</summary>
    Missing,

    /// <summary>The list is broken before the interface's message was found; <see cref="InterfaceListResult.Problem"/> says how.</summary>
    Malformed,
}

/// <summary>The outcome of <see cref="InterfaceList.Find"/>.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Counters">The counters when <see cref="InterfaceListStatus.Found"/>.</param>
/// <param name="Problem">What is wrong with the list when <see cref="InterfaceListStatus.Malformed"/>.</param>
internal readonly record struct InterfaceListResult(InterfaceListStatus Status, InterfaceCounters Counters, string? Problem)
{
    public static InterfaceListResult Missing => new(InterfaceListStatus.Missing, default, null);

    public static InterfaceListResult Found(InterfaceCounters counters) => new(InterfaceListStatus.Found, counters, null);

    public static InterfaceListResult Malformed(string problem) => new(InterfaceListStatus.Malformed, default, problem);
}
