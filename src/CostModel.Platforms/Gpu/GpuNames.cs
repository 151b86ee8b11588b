using System.Text;
using CostModel.Factors;

namespace CostModel.Platforms.Gpu;

/// <summary>Turns what a driver reports into a <see cref="GpuDevice.Name"/> the model accepts.</summary>
internal static class GpuNames
{
    /// <summary>
    /// The text up to the first NUL, control characters replaced by spaces, trimmed, cut to
    /// <see cref="GpuDevice.MaxNameLength"/> characters (never half a surrogate pair), an unpaired
    /// surrogate replaced by U+FFFD; <paramref name="fallback"/> when nothing is left.
    /// </summary>
    public static string Sanitize(ReadOnlySpan<byte> utf8, string fallback)
    {
        int nul = utf8.IndexOf((byte)0);
        if (nul >= 0)
        {
            utf8 = utf8[..nul];
        }

        return Sanitize(Encoding.UTF8.GetString(utf8), fallback);
    }

    /// <inheritdoc cref="Sanitize(ReadOnlySpan{byte}, string)"/>
    public static string Sanitize(string? text, string fallback)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        Span<char> buffer = stackalloc char[GpuDevice.MaxNameLength];
        ReadOnlySpan<char> trimmed = text.AsSpan().Trim();
        int length = Math.Min(trimmed.Length, buffer.Length);
        for (int i = 0; i < length; i++)
        {
            char c = trimmed[i];
            buffer[i] = char.IsControl(c) ? ' ' : c;
        }

        ReadOnlySpan<char> result = buffer[..length].Trim();
        if (result.IsEmpty)
        {
            return fallback;
        }

        // A cut in the middle of a surrogate pair would leave half a character; what is left
        // without it may be nothing, or end in a space (a lone high surrogate, which a CFString can hold).
        if (char.IsHighSurrogate(result[^1]))
        {
            result = result[..^1].TrimEnd();
            if (result.IsEmpty)
            {
                return fallback;
            }
        }

        // An unpaired surrogate (a CFString may hold one) as U+FFFD: a name must read back from JSON and UTF-8 as written.
        return OsText.Valid(result.SequenceEqual(text.AsSpan()) ? text : result.ToString());
    }
}
