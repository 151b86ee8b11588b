namespace CostModel.Platforms;

/// <summary>
/// Text an operating system hands a probe (a CFString, a driver's name), made fit for a reading's
/// reason, source or name: valid Unicode, so that it reads back from JSON and UTF-8 as written. A
/// CFString is UTF-16 and may hold unpaired surrogates, which a JSON or UTF-8 writer replaces with
/// U+FFFD: the snapshot a host serves would then differ from the one it holds. The factor model
/// repairs the same way what reaches it (<c>FactorGuard.WellFormed</c> in CostModel, for readings'
/// notes and names); this copy serves the text a probe builds and compares before that (a reason's
/// quote, a name checked against its fallback), since a package does not reach another's internals.
/// </summary>
internal static class OsText
{
    /// <summary>The replacement character, written for an unpaired surrogate.</summary>
    internal const char Replacement = '\uFFFD';

    /// <summary><paramref name="text"/> with every unpaired surrogate replaced by U+FFFD (the same instance when there is none).</summary>
    public static string Valid(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        char[]? copy = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                copy ??= text.ToCharArray();
                copy[i] = Replacement;
            }
        }

        return copy is null ? text : new string(copy);
    }

    /// <summary>
    /// At most <paramref name="maxChars"/> UTF-16 units of <paramref name="text"/>, never half a
    /// surrogate pair, followed by "..." when cut; valid Unicode (<see cref="Valid"/>).
    /// </summary>
    public static string Clip(string text, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= maxChars)
        {
            return Valid(text);
        }

        int length = maxChars > 0 && char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars;
        return Valid(text[..length]) + "...";
    }
}
