using System.Globalization;

namespace CostModel.Factors;

/// <summary>Range checks used by the factor records' <c>init</c> accessors.</summary>
internal static class FactorGuard
{
    public static Reading<double> Range(Reading<double> reading, double min, double max, string name)
    {
        if (reading.HasValue && (reading.RawValue < min || reading.RawValue > max))
        {
            throw new ArgumentOutOfRangeException(name, reading.RawValue,
                string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max}."));
        }

        return reading;
    }

    public static Reading<double> NonNegative(Reading<double> reading, string name) =>
        Range(reading, 0, double.MaxValue, name);

    public static Reading<long> NonNegative(Reading<long> reading, string name)
    {
        if (reading.HasValue && reading.RawValue < 0)
        {
            throw new ArgumentOutOfRangeException(name, reading.RawValue, $"{name} must not be negative.");
        }

        return reading;
    }

    public static Reading<int> NonNegative(Reading<int> reading, string name)
    {
        if (reading.HasValue && reading.RawValue < 0)
        {
            throw new ArgumentOutOfRangeException(name, reading.RawValue, $"{name} must not be negative.");
        }

        return reading;
    }

    public static long NonNegative(long value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");

    public static int NonNegative(int value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");

    public static double Range(double value, double min, double max, string name) =>
        double.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new ArgumentOutOfRangeException(name, value,
                string.Create(CultureInfo.InvariantCulture, $"{name} must be a finite number between {min} and {max}."));

    /// <summary>
    /// An identity (a node id, a model id): 1 to <paramref name="maxLength"/> characters, not blank, no
    /// control characters, and well-formed UTF-16. A lone surrogate is refused, not repaired: such an
    /// id would travel as U+FFFD in gossip (UTF-8) and JSON, so peers would know the node by another
    /// id than its own, and its own state relayed back would not be recognised as its own.
    /// </summary>
    public static string Text(string? value, int maxLength, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, name);
        if (value.Length > maxLength)
        {
            throw new ArgumentOutOfRangeException(name, value.Length, $"{name} must be at most {maxLength} characters.");
        }

        foreach (char c in value)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"{name} must not contain control characters.", name);
            }
        }

        int lone = LoneSurrogateAt(value);
        if (lone >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} must be well-formed Unicode: a lone surrogate at index {lone}."), name);
        }

        return value;
    }

    /// <summary>
    /// A label read from the OS (a GPU's name, an interface's): its lone surrogates replaced by U+FFFD
    /// (<see cref="WellFormed"/>: what JSON and gossip carry for them), then checked as <see cref="Text"/>.
    /// </summary>
    public static string Label(string? value, int maxLength, string name) => Text(WellFormed(value), maxLength, name);

    /// <summary>
    /// <paramref name="text"/> with every lone surrogate replaced by U+FFFD, the replacement character
    /// that UTF-8 encoders and System.Text.Json write for one, so that text read from the OS (a
    /// driver's name, a reason quoting a file) is the same after a JSON round trip or a trip through
    /// gossip. The same string when it has none, found without allocating (<see cref="LoneSurrogateAt"/>).
    /// </summary>
    /// <param name="text">The text, or null.</param>
    /// <returns>Well-formed text, or null.</returns>
    public static string? WellFormed(string? text)
    {
        if (text is null || LoneSurrogateAt(text) < 0)
        {
            return text;
        }

        return string.Create(text.Length, text, static (destination, source) =>
        {
            source.AsSpan().CopyTo(destination);
            for (int at = LoneSurrogateAt(destination); at >= 0;)
            {
                destination[at] = '\uFFFD';
                int next = LoneSurrogateAt(destination[(at + 1)..]);
                at = next < 0 ? -1 : at + 1 + next;
            }
        });
    }

    /// <summary>
    /// The index of the first surrogate in <paramref name="text"/> that is not half of a high-then-low
    /// pair, or -1. ASCII text (nearly every note and id) is passed by one vectorised check, about 4 ns
    /// for 40 characters against 14 ns for the loop; the loop, not <c>IndexOfAnyInRange</c>, finds the
    /// rest: that one allocated 96 bytes a call for <c>char</c> here (.NET 10.0, 2026-12-07), which the
    /// probes' allocation tests caught on every reading's creation.
    /// </summary>
    internal static int LoneSurrogateAt(ReadOnlySpan<char> text)
    {
        if (System.Text.Ascii.IsValid(text))
        {
            return -1;
        }

        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            return i;
        }

        return -1;
    }
}
