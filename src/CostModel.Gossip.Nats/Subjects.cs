namespace CostModel.Gossip.Nats;

/// <summary>NATS subject and token rules the transport checks (the server's are looser; ours keep addresses plain).</summary>
internal static class Subjects
{
    /// <summary>The longest inbox token accepted from a sender: 64 characters (ours are 32).</summary>
    public const int MaxInboxTokenLength = 64;

    /// <summary>True for one token of letters, digits, <c>-</c> and <c>_</c>.</summary>
    public static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws unless <paramref name="subject"/> is tokens as <see cref="IsToken"/> joined by dots (no wildcards).</summary>
    public static void ThrowIfNotSubject(string? subject, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject, name);
        foreach (string token in subject.Split('.'))
        {
            if (!IsToken(token))
            {
                throw new ArgumentException($"'{subject}' is not a subject of tokens of letters, digits, '-' or '_' joined by dots.", name);
            }
        }
    }

    /// <summary>True when <paramref name="subject"/> is an inbox under <paramref name="prefix"/>: the prefix, a dot and one token.</summary>
    public static bool IsInbox(string? subject, string prefix) =>
        subject is not null
        && subject.Length > prefix.Length + 1
        && subject.Length <= prefix.Length + 1 + MaxInboxTokenLength
        && subject.StartsWith(prefix, StringComparison.Ordinal)
        && subject[prefix.Length] == '.'
        && IsToken(subject.AsSpan(prefix.Length + 1));

    /// <summary>The URL without a user or password (the only form that is logged).</summary>
    public static string Redact(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        int start = scheme < 0 ? 0 : scheme + 3;
        int at = url.IndexOf('@', start);
        return at < 0 ? url : string.Concat(url.AsSpan(0, start), "***@", url.AsSpan(at + 1));
    }
}
