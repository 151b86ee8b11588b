using System.Buffers.Text;
using System.Text;

namespace CostModel.Platforms.Linux;

/// <summary>Allocation-free parsing of kernel text (ASCII) from spans.</summary>
internal static class KernelText
{
    /// <summary>Splits off the next line (without its '\n'); false at the end.</summary>
    public static bool NextLine(scoped ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        if (rest.IsEmpty)
        {
            line = default;
            return false;
        }

        int newline = rest.IndexOf((byte)'\n');
        if (newline < 0)
        {
            line = rest;
            rest = default;
        }
        else
        {
            line = rest[..newline];
            rest = rest[(newline + 1)..];
        }

        return true;
    }

    /// <summary>Splits off the next whitespace-separated field; false when none is left.</summary>
    public static bool NextField(scoped ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        rest = rest.TrimStart(" \t"u8);
        if (rest.IsEmpty)
        {
            field = default;
            return false;
        }

        int end = rest.IndexOfAny(" \t"u8);
        if (end < 0)
        {
            field = rest;
            rest = default;
        }
        else
        {
            field = rest[..end];
            rest = rest[end..];
        }

        return true;
    }

    /// <summary>Parses a whole span (surrounding whitespace ignored) as a signed 64-bit integer.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        text = text.Trim(" \t\n\r\0"u8);
        return Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && text.Length > 0;
    }

    /// <summary>Parses a whole span as an unsigned 64-bit integer.</summary>
    public static bool TryParseUInt64(ReadOnlySpan<byte> text, out ulong value)
    {
        text = text.Trim(" \t\n\r\0"u8);
        return Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && text.Length > 0;
    }

    /// <summary>Parses a whole span as a finite double.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        text = text.Trim(" \t\n\r\0"u8);
        return Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && text.Length > 0 && double.IsFinite(value);
    }

    /// <summary>The content with trailing whitespace and newlines removed.</summary>
    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text) => text.Trim(" \t\n\r\0"u8);

    /// <summary>Finds "key value" or "key: value" lines (as in /proc/meminfo) and returns the value field.</summary>
    public static bool TryFindValue(ReadOnlySpan<byte> content, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        ReadOnlySpan<byte> rest = content;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            if (line.StartsWith(key) && line.Length > key.Length && (line[key.Length] is (byte)' ' or (byte)'\t' or (byte)':' or (byte)'='))
            {
                ReadOnlySpan<byte> after = line[(key.Length + 1)..].TrimStart(" \t:="u8);
                int end = after.IndexOfAny(" \t"u8);
                value = end < 0 ? after : after[..end];
                return !value.IsEmpty;
            }
        }

        value = default;
        return false;
    }

    /// <summary>The reason for a value that could not be parsed: the path, what was expected, and an excerpt (failure path only; allocates).</summary>
    /// <param name="path">The file.</param>
    /// <param name="text">What it held.</param>
    /// <param name="what">What was expected ("not an integer").</param>
    public static string GarbageReason(string path, ReadOnlySpan<byte> text, string what) =>
        text.IsEmpty ? $"{path} is empty" : $"{path}: {what}: '{Excerpt(text)}'";

    /// <summary>At most 32 printable ASCII characters of a bad value, for a failure message.</summary>
    public static string Excerpt(ReadOnlySpan<byte> text)
    {
        const int MaxChars = 32;
        ReadOnlySpan<byte> head = text.Length > MaxChars ? text[..MaxChars] : text;
        var builder = new StringBuilder(head.Length);
        foreach (byte c in head)
        {
            builder.Append(c is >= 0x20 and < 0x7f ? (char)c : '?');
        }

        return builder.ToString();
    }
}
