using System.Text.Json.Nodes;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>The probe tool's JSON on this machine follows docs/json-schema.md.</summary>
public sealed class RealSnapshotJsonTests
{
    private static readonly string[] Groups = ["power", "compute", "gpu", "thermal", "network", "container", "pending", "trends"];
    private static readonly string[] Qualities = ["measured", "estimated", "overridden", "unknown", "notSupported"];

    [Fact]
    public void A_real_snapshot_serialises_in_the_documented_schema_and_reads_back()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs Linux /proc and /sys");
        }

        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "schema-test").AddPlatformProbes();
        using ServiceProvider provider = services.BuildServiceProvider();
        ICostCollector collector = provider.GetRequiredService<ICostCollector>();
        collector.Collect();
        NodeCostFactors snapshot = collector.Collect();

        string json = CostModelJson.Serialize(snapshot);
        JsonObject root = JsonNode.Parse(json)!.AsObject();

        Assert.Equal("schema-test", (string?)root["nodeId"]);
        Assert.True((long)root["generation"]! > 0);
        Assert.Equal(2L, (long)root["version"]!);
        foreach (string group in Groups)
        {
            JsonObject groupObject = Assert.IsType<JsonObject>(root[group]);
            foreach ((string name, JsonNode? value) in groupObject)
            {
                if (value is JsonObject reading && reading.ContainsKey("quality"))
                {
                    string quality = (string)reading["quality"]!;
                    Assert.Contains(quality, Qualities);
                    bool hasValue = quality is "measured" or "estimated" or "overridden";
                    Assert.Equal(hasValue, reading.ContainsKey("value"));
                    Assert.Equal(!hasValue, reading.ContainsKey("reason"));
                }
                else
                {
                    Assert.Contains(name, (string[])["defaultInterface", "bandwidthSampleCount", "devices", "layout"]);
                }
            }
        }

        // A machine without a battery says so: NotSupported with a reason, never 0.
        if (snapshot.Power.BatteryCount.GetValueOrDefault(-1) == 0)
        {
            Assert.Equal("notSupported", (string?)root["power"]!["batteryPercent"]!["quality"]);
            Assert.Equal("no system battery", (string?)root["power"]!["batteryPercent"]!["reason"]);
        }

        Assert.Equal("measured", (string?)root["compute"]!["effectiveCores"]!["quality"]);

        NodeCostFactors copy = CostModelJson.DeserializeFactors(json);
        Assert.Equal(snapshot.Compute, copy.Compute);
        Assert.Equal(snapshot.Power, copy.Power);
        Assert.Equal(snapshot.Network, copy.Network);
    }
}
