using System.Diagnostics.CodeAnalysis;

namespace CostModel.Platforms.MacOS;

/// <summary>
/// Typed reads of a property dictionary in the shape <see cref="Native.CfConvert"/> produces (and
/// the tests' recorded <c>ioreg -a</c> property lists produce): string keys; values
/// <see cref="string"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>,
/// <see cref="byte"/>[], <see cref="DateTimeOffset"/>, lists and nested dictionaries. Each read
/// is strict about the kind: a key holding the wrong kind is as absent as a missing one, and
/// <see cref="Describe"/> says which it was for the reading's reason.
/// </summary>
internal static class PropertyValues
{
    /// <summary>An integer value.</summary>
    public static bool TryGetInt64(IReadOnlyDictionary<string, object> properties, string key, out long value)
    {
        if (properties.TryGetValue(key, out object? raw) && raw is long l)
        {
            value = l;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>A number, integer or floating, as a finite double.</summary>
    public static bool TryGetDouble(IReadOnlyDictionary<string, object> properties, string key, out double value)
    {
        value = properties.TryGetValue(key, out object? raw) ? raw switch
        {
            long l => l,
            double d => d,
            _ => double.NaN,
        } : double.NaN;
        return double.IsFinite(value);
    }

    /// <summary>A boolean.</summary>
    public static bool TryGetBool(IReadOnlyDictionary<string, object> properties, string key, out bool value)
    {
        if (properties.TryGetValue(key, out object? raw) && raw is bool b)
        {
            value = b;
            return true;
        }

        value = false;
        return false;
    }

    /// <summary>A string.</summary>
    public static bool TryGetString(IReadOnlyDictionary<string, object> properties, string key, [NotNullWhen(true)] out string? value)
    {
        value = properties.TryGetValue(key, out object? raw) ? raw as string : null;
        return value is not null;
    }

    /// <summary>A nested dictionary.</summary>
    public static bool TryGetDictionary(IReadOnlyDictionary<string, object> properties, string key, [NotNullWhen(true)] out IReadOnlyDictionary<string, object>? value)
    {
        value = properties.TryGetValue(key, out object? raw) ? raw as IReadOnlyDictionary<string, object> : null;
        return value is not null;
    }

    /// <summary>A list.</summary>
    public static bool TryGetList(IReadOnlyDictionary<string, object> properties, string key, [NotNullWhen(true)] out IReadOnlyList<object>? value)
    {
        value = properties.TryGetValue(key, out object? raw) ? raw as IReadOnlyList<object> : null;
        return value is not null;
    }

    /// <summary>For a reason: "absent", or the kind and value found where another kind was expected.</summary>
    public static string Describe(IReadOnlyDictionary<string, object> properties, string key) =>
        !properties.TryGetValue(key, out object? raw) ? $"{key} absent"
            : raw switch
            {
                string s => $"{key} is the string \"{Quote(s)}\"",
                long or double or bool => $"{key} = {System.Convert.ToString(raw, System.Globalization.CultureInfo.InvariantCulture)}",
                IReadOnlyDictionary<string, object> => $"{key} is a dictionary",
                IReadOnlyList<object> => $"{key} is a list",
                byte[] bytes => $"{key} is {bytes.Length} bytes of data",
                _ => $"{key} is {raw}",
            };

    /// <summary>
    /// A string value for a reason or a source: at most <see cref="MaxQuotedChars"/> characters,
    /// never half a surrogate pair, an unpaired surrogate as U+FFFD (<see cref="OsText.Clip"/>).
    /// </summary>
    public static string Quote(string s) => OsText.Clip(s, MaxQuotedChars);

    /// <summary>40 characters of a string value in a reason: enough to recognise it, short enough for a log line.</summary>
    internal const int MaxQuotedChars = 40;
}
