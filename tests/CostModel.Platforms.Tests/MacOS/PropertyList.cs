using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace CostModel.Platforms.Tests.MacOS;

/// <summary>
/// Reads an XML property list (what <c>ioreg -a</c> and <c>plutil -convert xml1</c> print) into
/// the shape <c>CfConvert</c> produces from the live CoreFoundation values, so that the probes'
/// logic is tested on readings recorded on real Macs: <c>&lt;integer&gt;</c> -> <see cref="long"/>
/// (a value above <see cref="long.MaxValue"/> is a negative SInt64 that <c>ioreg</c> printed
/// unsigned, e.g. a discharging <c>Amperage</c> of 18446744073709550616 = -1000, and is read
/// back as CoreFoundation's <c>kCFNumberSInt64Type</c> gives it), <c>&lt;real&gt;</c> ->
/// <see cref="double"/>, <c>&lt;true/&gt;</c>/<c>&lt;false/&gt;</c> -> <see cref="bool"/>,
/// <c>&lt;data&gt;</c> -> bytes, <c>&lt;date&gt;</c> -> <see cref="DateTimeOffset"/>, arrays and
/// dictionaries.
/// </summary>
internal static class PropertyList
{
    /// <summary>Reads a fixture from <c>MacOS/Fixtures</c> beside the test assembly.</summary>
    public static object Load(string fixture)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "MacOS", "Fixtures", fixture);
        return Parse(File.ReadAllText(path));
    }

    /// <summary>The fixture's top-level value, which must be a dictionary.</summary>
    public static IReadOnlyDictionary<string, object> LoadDictionary(string fixture) =>
        Load(fixture) as IReadOnlyDictionary<string, object> ?? throw new InvalidDataException($"{fixture}: the top level is not a dictionary");

    /// <summary>The fixture's top-level value as a list of dictionaries (what <c>ioreg -r -c Class -a</c> prints: one per service).</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object>> LoadServices(string fixture) => Load(fixture) switch
    {
        IReadOnlyList<object> list => [.. list.Select(o => o as IReadOnlyDictionary<string, object> ?? throw new InvalidDataException($"{fixture}: a service is not a dictionary"))],
        IReadOnlyDictionary<string, object> one => [one],
        _ => throw new InvalidDataException($"{fixture}: neither a list of services nor one"),
    };

    /// <summary>Parses XML property-list text.</summary>
    public static object Parse(string xml)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        XElement root = XElement.Load(reader);
        XElement value = root.Name.LocalName == "plist"
            ? root.Elements().Single()
            : root;
        return Value(value);
    }

    private static object Value(XElement e) => e.Name.LocalName switch
    {
        "dict" => Dictionary(e),
        "array" => e.Elements().Select(Value).ToArray(),
        "string" => e.Value,
        "integer" => Integer(e.Value.Trim()),
        "real" => double.Parse(e.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture),
        "true" => true,
        "false" => false,
        "data" => Convert.FromBase64String(string.Concat(e.Value.Where(c => !char.IsWhiteSpace(c)))),
        "date" => DateTimeOffset.Parse(e.Value.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        _ => throw new InvalidDataException($"unknown property-list element <{e.Name.LocalName}>"),
    };

    private static Dictionary<string, object> Dictionary(XElement e)
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        XElement[] children = [.. e.Elements()];
        if (children.Length % 2 != 0)
        {
            throw new InvalidDataException("a <dict> needs key/value pairs");
        }

        for (int i = 0; i < children.Length; i += 2)
        {
            if (children[i].Name.LocalName != "key")
            {
                throw new InvalidDataException($"expected <key>, got <{children[i].Name.LocalName}>");
            }

            result[children[i].Value] = Value(children[i + 1]);
        }

        return result;
    }

    private static long Integer(string text) =>
        text.StartsWith('-')
            ? long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
            : unchecked((long)ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture));
}
