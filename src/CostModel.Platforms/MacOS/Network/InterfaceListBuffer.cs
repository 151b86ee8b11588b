using System.Globalization;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// Holds the buffer for <c>sysctl NET_RT_IFLIST2</c> and fills it: sized by a first call with no
/// buffer, reused on every later pass, grown and tried once more when the kernel says it is too
/// small (<c>ENOMEM</c>: an interface or address appeared since it was sized), never beyond
/// <see cref="MaxBytes"/>. Not thread-safe: the collector calls probes one at a time.
/// </summary>
internal sealed class InterfaceListBuffer
{
    /// <summary><c>ENOMEM</c> (<c>&lt;sys/errno.h&gt;</c>): the buffer is too small.</summary>
    internal const int ENoMem = 12;

    /// <summary>
    /// 4 MiB: a Mac lists about 20 to 40 interfaces (en*, utun*, awdl0, llw0, bridge*, anpi*), each
    /// a 160-byte <c>RTM_IFINFO2</c> message plus its addresses, about 10 KiB in all; 4 MiB holds
    /// over 10,000 interfaces, so a larger size is a broken answer, not a machine.
    /// </summary>
    internal const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>1 KiB beyond the size asked for, plus an eighth: room for an interface that appears between the two calls.</summary>
    internal const int HeadroomBytes = 1024;

    private byte[] _buffer = [];

    /// <summary>The current buffer size in bytes (0 before the first read).</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Fills the buffer; on success <paramref name="list"/> is the part the kernel wrote.</summary>
    /// <param name="source">The OS.</param>
    /// <param name="list">The messages.</param>
    /// <param name="error">Why not, with the failure kind in <paramref name="kind"/>.</param>
    /// <param name="kind">"io" for a failed call, "too-large" for a size past <see cref="MaxBytes"/>, "garbage" for a length the kernel could not have written.</param>
    public bool TryRead(IMacNetworkSource source, out ReadOnlySpan<byte> list, out string? error, out string? kind)
    {
        ArgumentNullException.ThrowIfNull(source);
        list = default;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            if (_buffer.Length == 0 && !TrySize(source, out error, out kind))
            {
                return false;
            }

            int errno = source.QueryInterfaceList(_buffer, out nuint length);
            if (errno == 0)
            {
                if (length > (nuint)_buffer.Length)
                {
                    (error, kind) = (Invariant($"sysctl NET_RT_IFLIST2 reported {length} bytes written into a {_buffer.Length}-byte buffer"), "garbage");
                    return false;
                }

                list = _buffer.AsSpan(0, (int)length);
                error = kind = null;
                return true;
            }

            if (errno != ENoMem)
            {
                (error, kind) = (Invariant($"sysctl NET_RT_IFLIST2 failed: errno {errno}"), "io");
                return false;
            }

            // Too small: size it again on the next attempt (only one more).
            _buffer = [];
        }

        (error, kind) = ("sysctl NET_RT_IFLIST2 still reported ENOMEM after the buffer was sized again", "io");
        return false;
    }

    private bool TrySize(IMacNetworkSource source, out string? error, out string? kind)
    {
        int errno = source.QueryInterfaceList([], out nuint needed);
        if (errno != 0)
        {
            (error, kind) = (Invariant($"sysctl NET_RT_IFLIST2 (size) failed: errno {errno}"), "io");
            return false;
        }

        if (needed > MaxBytes)
        {
            (error, kind) = (Invariant($"sysctl NET_RT_IFLIST2 needs {needed} bytes, more than {MaxBytes}"), "too-large");
            return false;
        }

        int size = (int)needed;
        _buffer = new byte[Math.Min(MaxBytes, size + (size / 8) + HeadroomBytes)];
        error = kind = null;
        return true;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
