using CostModel.Platforms.MacOS;

namespace CostModel.Platforms.Tests.MacOS;

public sealed class PropertyValuesTests
{
    private const string Xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
        <plist version="1.0">
        <dict>
          <key>Amperage</key><integer>18446744073709550616</integer>
          <key>Voltage</key><integer>12584</integer>
          <key>Temperature</key><real>30.5</real>
          <key>IsCharging</key><false/>
          <key>Name</key><string>bq20z451</string>
          <key>BatteryData</key><dict><key>DesignCapacity</key><integer>6075</integer></dict>
          <key>CellVoltage</key><array><integer>4195</integer><integer>4196</integer></array>
          <key>Serial</key><data>AAEC</data>
        </dict>
        </plist>
        """;

    private static readonly IReadOnlyDictionary<string, object> Properties = (IReadOnlyDictionary<string, object>)PropertyList.Parse(Xml);

    [Fact]
    public void An_unsigned_integer_above_the_signed_range_reads_as_the_negative_number_ioreg_printed_unsigned()
    {
        Assert.True(PropertyValues.TryGetInt64(Properties, "Amperage", out long amperage));
        Assert.Equal(-1000, amperage);
    }

    [Fact]
    public void Each_read_is_strict_about_the_kind_and_says_what_it_found()
    {
        Assert.True(PropertyValues.TryGetDouble(Properties, "Voltage", out double volts));
        Assert.Equal(12584, volts);
        Assert.True(PropertyValues.TryGetDouble(Properties, "Temperature", out double t));
        Assert.Equal(30.5, t);
        Assert.False(PropertyValues.TryGetInt64(Properties, "Temperature", out _));
        Assert.True(PropertyValues.TryGetBool(Properties, "IsCharging", out bool charging));
        Assert.False(charging);
        Assert.False(PropertyValues.TryGetBool(Properties, "Voltage", out _));
        Assert.False(PropertyValues.TryGetInt64(Properties, "Name", out _));
        Assert.True(PropertyValues.TryGetDictionary(Properties, "BatteryData", out var data));
        Assert.True(PropertyValues.TryGetInt64(data, "DesignCapacity", out long design));
        Assert.Equal(6075, design);
        Assert.True(PropertyValues.TryGetList(Properties, "CellVoltage", out var cells));
        Assert.Equal([4195L, 4196L], cells);

        Assert.Equal("Name is the string \"bq20z451\"", PropertyValues.Describe(Properties, "Name"));
        Assert.Equal("Missing absent", PropertyValues.Describe(Properties, "Missing"));
        Assert.Equal("Serial is 3 bytes of data", PropertyValues.Describe(Properties, "Serial"));
        Assert.Equal("Temperature = 30.5", PropertyValues.Describe(Properties, "Temperature"));
    }

    [Fact]
    public void A_string_is_described_as_valid_text_never_half_a_surrogate_pair_so_its_reason_reads_back_from_JSON_as_written()
    {
        // Found by the mac fuzz target (2026-12-07): a CFString holds UTF-16 units, unpaired
        // surrogates included, and the 40-character clip could also cut a valid pair in two; a
        // reason with half a pair was written to JSON as U+FFFD and read back different.
        var properties = new Dictionary<string, object>
        {
            ["Lone"] = "80\uDF4B%",
            ["Emoji"] = new string('x', 39) + "\U0001F50B battery",
        };

        Assert.Equal("Lone is the string \"80\uFFFD%\"", PropertyValues.Describe(properties, "Lone"));
        Assert.Equal($"Emoji is the string \"{new string('x', 39)}...\"", PropertyValues.Describe(properties, "Emoji"));
        foreach (string key in properties.Keys)
        {
            string reason = PropertyValues.Describe(properties, key);
            Assert.Equal(reason, System.Text.Json.JsonSerializer.Deserialize<string>(System.Text.Json.JsonSerializer.Serialize(reason)));
        }
    }
}
