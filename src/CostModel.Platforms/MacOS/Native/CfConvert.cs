using System.Runtime.Versioning;

namespace CostModel.Platforms.MacOS.Native;

/// <summary>
/// Turns a CoreFoundation property-list value into plain .NET values, the shape every macOS
/// probe's logic reads (see <see cref="PropertyValues"/>): CFString -> <see cref="string"/>,
/// CFNumber -> <see cref="long"/> (integer kinds, read as <c>kCFNumberSInt64Type</c>) or
/// <see cref="double"/> (float kinds), CFBoolean -> <see cref="bool"/>, CFData -> <see cref="byte"/>[],
/// CFDate -> <see cref="DateTimeOffset"/>, CFArray -> <see cref="IReadOnlyList{T}"/> of values,
/// CFDictionary -> <see cref="IReadOnlyDictionary{TKey, TValue}"/> with string keys; anything else
/// -> <see cref="UnsupportedCfValue"/> with its type id, so that nothing is silently dropped.
/// </summary>
/// <remarks>
/// The registry and the power-source daemon are the OS, but a driver can publish anything: the
/// conversion is bounded (<see cref="MaxDepth"/>, <see cref="MaxEntries"/>, <see cref="MaxStringChars"/>,
/// <see cref="MaxDataBytes"/>) and throws <see cref="InvalidDataException"/> with the limit
/// crossed, which a probe turns into Unknown with that reason. Non-string dictionary keys are
/// skipped and counted in the same way as unsupported values are kept: as
/// <see cref="UnsupportedCfValue"/> under the key <c>"#key{n}"</c> (never seen in IOKit, kept honest).
/// </remarks>
[SupportedOSPlatform("macos")]
internal static unsafe class CfConvert
{
    /// <summary>Nesting levels followed. AppleSmartBattery's deepest (BatteryData -> LifetimeData) is 3.</summary>
    internal const int MaxDepth = 8;

    /// <summary>Entries in one dictionary or array. AppleSmartBattery has about 70 keys; a driver with more is broken.</summary>
    internal const int MaxEntries = 4096;

    /// <summary>UTF-16 code units in one string. Names and serial numbers are short.</summary>
    internal const int MaxStringChars = 4096;

    /// <summary>Bytes in one CFData value.</summary>
    internal const int MaxDataBytes = 64 * 1024;

    /// <summary><c>CFAbsoluteTime</c> 0: 2001-01-01T00:00:00Z.</summary>
    private static readonly DateTimeOffset AbsoluteTimeEpoch = new(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly TypeIds Types = new();

    /// <summary>Converts <paramref name="cf"/> (not released here); null for a null reference.</summary>
    public static object? ToValue(nint cf) => cf == 0 ? null : Convert(cf, 0);

    /// <summary>Converts a CFDictionary; throws <see cref="InvalidDataException"/> when it is something else.</summary>
    public static IReadOnlyDictionary<string, object> ToDictionary(nint cf) =>
        ToValue(cf) as IReadOnlyDictionary<string, object>
            ?? throw new InvalidDataException($"expected a CFDictionary, got type id {(cf == 0 ? "null" : CoreFoundation.CFGetTypeID(cf).ToString(System.Globalization.CultureInfo.InvariantCulture))}");

    /// <summary>A new CFString for <paramref name="text"/>; the caller releases it.</summary>
    public static nint CreateString(string text)
    {
        fixed (char* chars = text)
        {
            nint created = CoreFoundation.CFStringCreateWithCharacters(0, chars, text.Length);
            return created != 0 ? created : throw new InvalidOperationException($"CFStringCreateWithCharacters failed for \"{text}\"");
        }
    }

    /// <summary>The text of a CFString, bounded by <see cref="MaxStringChars"/>.</summary>
    public static string ToText(nint str)
    {
        nint length = CoreFoundation.CFStringGetLength(str);
        if (length < 0 || length > MaxStringChars)
        {
            throw new InvalidDataException($"CFString of {length} UTF-16 units exceeds {MaxStringChars}");
        }

        if (length == 0)
        {
            return string.Empty;
        }

        return string.Create((int)length, str, static (span, s) =>
        {
            fixed (char* buffer = span)
            {
                CoreFoundation.CFStringGetCharacters(s, new CoreFoundation.CFRange(0, span.Length), buffer);
            }
        });
    }

    private static object Convert(nint cf, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"property list nested deeper than {MaxDepth}");
        }

        nuint type = CoreFoundation.CFGetTypeID(cf);
        if (type == Types.String)
        {
            return ToText(cf);
        }

        if (type == Types.Number)
        {
            if (CoreFoundation.CFNumberIsFloatType(cf) != 0)
            {
                double d;
                CoreFoundation.CFNumberGetValue(cf, CoreFoundation.NumberFloat64Type, &d);
                return d;
            }

            long l;
            CoreFoundation.CFNumberGetValue(cf, CoreFoundation.NumberSInt64Type, &l);
            return l;
        }

        if (type == Types.Boolean)
        {
            return CoreFoundation.CFBooleanGetValue(cf) != 0;
        }

        if (type == Types.Dictionary)
        {
            return ConvertDictionary(cf, depth);
        }

        if (type == Types.Array)
        {
            nint count = Bounded(CoreFoundation.CFArrayGetCount(cf), "CFArray");
            var list = new object[count];
            for (nint i = 0; i < count; i++)
            {
                list[i] = Convert(CoreFoundation.CFArrayGetValueAtIndex(cf, i), depth + 1);
            }

            return list;
        }

        if (type == Types.Data)
        {
            nint length = CoreFoundation.CFDataGetLength(cf);
            if (length < 0 || length > MaxDataBytes)
            {
                throw new InvalidDataException($"CFData of {length} bytes exceeds {MaxDataBytes}");
            }

            return new ReadOnlySpan<byte>(CoreFoundation.CFDataGetBytePtr(cf), (int)length).ToArray();
        }

        if (type == Types.Date)
        {
            double seconds = CoreFoundation.CFDateGetAbsoluteTime(cf);
            return double.IsFinite(seconds) && Math.Abs(seconds) < 1e10
                ? AbsoluteTimeEpoch.AddSeconds(seconds)
                : new UnsupportedCfValue(type, $"CFDate {seconds} s from 2001 out of range");
        }

        return new UnsupportedCfValue(type, "not a property-list type");
    }

    private static Dictionary<string, object> ConvertDictionary(nint cf, int depth)
    {
        nint count = Bounded(CoreFoundation.CFDictionaryGetCount(cf), "CFDictionary");
        var result = new Dictionary<string, object>((int)count, StringComparer.Ordinal);
        if (count == 0)
        {
            return result;
        }

        nint[] keys = new nint[count];
        nint[] values = new nint[count];
        fixed (nint* k = keys)
        fixed (nint* v = values)
        {
            CoreFoundation.CFDictionaryGetKeysAndValues(cf, k, v);
        }

        for (int i = 0; i < count; i++)
        {
            if (CoreFoundation.CFGetTypeID(keys[i]) == Types.String)
            {
                result[ToText(keys[i])] = Convert(values[i], depth + 1);
            }
            else
            {
                result[$"#key{i}"] = new UnsupportedCfValue(CoreFoundation.CFGetTypeID(keys[i]), "dictionary key is not a string");
            }
        }

        return result;
    }

    private static nint Bounded(nint count, string what) =>
        count >= 0 && count <= MaxEntries ? count : throw new InvalidDataException($"{what} of {count} entries exceeds {MaxEntries}");

    /// <summary>The type ids of the property-list types, asked once (they are fixed for the process).</summary>
    private sealed class TypeIds
    {
        public nuint String { get; } = CoreFoundation.CFStringGetTypeID();

        public nuint Number { get; } = CoreFoundation.CFNumberGetTypeID();

        public nuint Boolean { get; } = CoreFoundation.CFBooleanGetTypeID();

        public nuint Dictionary { get; } = CoreFoundation.CFDictionaryGetTypeID();

        public nuint Array { get; } = CoreFoundation.CFArrayGetTypeID();

        public nuint Data { get; } = CoreFoundation.CFDataGetTypeID();

        public nuint Date { get; } = CoreFoundation.CFDateGetTypeID();
    }
}

/// <summary>A CoreFoundation value that is not a property-list type, kept with its type id instead of being dropped.</summary>
/// <param name="TypeId">Its <c>CFTypeID</c>.</param>
/// <param name="Reason">Why it was not converted.</param>
internal sealed record UnsupportedCfValue(nuint TypeId, string Reason);
