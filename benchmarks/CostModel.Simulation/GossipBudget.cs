using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CostModel.Gossip;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>
/// The report's <c>--gossip-interval</c> and <c>--gossip-mtu</c>: every scenario run with the given
/// gossip budget, its <c>costModel</c> section's <c>Gossip:Interval</c> and <c>Gossip:Mtu</c> replaced
/// (docs/gossip-wire-format.md, "How large a mesh the budget carries"). The library's options
/// validation judges the values when each node starts, as for a scenario that sets them itself.
/// </summary>
internal static class GossipBudget
{
    /// <summary>The shortest round <c>Gossip:Interval</c> takes, milliseconds (<see cref="GossipDefaults.MinInterval"/>: 10).</summary>
    public static readonly int MinIntervalMilliseconds = (int)GossipDefaults.MinInterval.TotalMilliseconds;

    /// <summary>The longest round <c>Gossip:Interval</c> takes, milliseconds (<see cref="GossipDefaults.MaxInterval"/>: 60,000).</summary>
    public static readonly int MaxIntervalMilliseconds = (int)GossipDefaults.MaxInterval.TotalMilliseconds;

    /// <summary>Wraps a scenario's factory so that each scenario it makes has the budget; the factory itself when neither is set.</summary>
    /// <param name="create">The scenario's factory.</param>
    /// <param name="intervalMilliseconds">The gossip round, milliseconds; 0 for the scenario's own.</param>
    /// <param name="mtu">The largest gossip message, bytes; 0 for the scenario's own.</param>
    /// <returns>The factory of the scenario with the budget.</returns>
    public static Func<Scenario> Apply(Func<Scenario> create, int intervalMilliseconds, int mtu) =>
        intervalMilliseconds == 0 && mtu == 0 ? create : () => With(create(), intervalMilliseconds, mtu);

    /// <summary>Sets the budget in the scenario's <c>costModel</c> section, replacing what it said (keys matched as configuration matches them, ignoring case).</summary>
    /// <param name="scenario">The scenario, changed.</param>
    /// <param name="intervalMilliseconds">The gossip round, milliseconds; 0 to leave it.</param>
    /// <param name="mtu">The largest gossip message, bytes; 0 to leave it.</param>
    /// <returns>The scenario.</returns>
    public static Scenario With(Scenario scenario, int intervalMilliseconds, int mtu)
    {
        JsonObject section = scenario.CostModel is { } given ? JsonNode.Parse(given.GetRawText())!.AsObject() : [];
        JsonObject gossip = Child(section, GossipOptions.SectionName);
        if (intervalMilliseconds > 0)
        {
            Set(gossip, nameof(GossipOptions.Interval), TimeSpan.FromMilliseconds(intervalMilliseconds).ToString("c", CultureInfo.InvariantCulture));
        }

        if (mtu > 0)
        {
            Set(gossip, nameof(GossipOptions.Mtu), mtu);
        }

        scenario.CostModel = JsonDocument.Parse(section.ToJsonString()).RootElement.Clone();
        return scenario;
    }

    private static JsonObject Child(JsonObject parent, string name)
    {
        if (Find(parent, name) is { } key && parent[key] is JsonObject existing)
        {
            return existing;
        }

        var child = new JsonObject();
        Set(parent, name, child);
        return child;
    }

    private static void Set(JsonObject target, string name, JsonNode value)
    {
        if (Find(target, name) is { } key)
        {
            target.Remove(key);
        }

        target[name] = value;
    }

    private static string? Find(JsonObject target, string name) =>
        target.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
}
