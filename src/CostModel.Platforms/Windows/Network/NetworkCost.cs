using System.Globalization;
using System.Text;
using CostModel.Factors;

namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// NLM_CONNECTION_COST (netlistmgr.h), the flags <c>INetworkCostManager::GetCost</c> answers, and
/// the one rule that turns them into the metered tri-state. No SSID, profile or interface name is
/// ever consulted: only the cost the user or the mobile operator set on the connection.
/// </summary>
internal static class NetworkCost
{
    /// <summary>NLM_CONNECTION_COST_UNKNOWN: the cost is not known.</summary>
    public const uint Unknown = 0x0;

    /// <summary>NLM_CONNECTION_COST_UNRESTRICTED: no usage limit or charge.</summary>
    public const uint Unrestricted = 0x1;

    /// <summary>NLM_CONNECTION_COST_FIXED: a data cap (free up to a limit).</summary>
    public const uint Fixed = 0x2;

    /// <summary>NLM_CONNECTION_COST_VARIABLE: charged per byte.</summary>
    public const uint Variable = 0x4;

    /// <summary>NLM_CONNECTION_COST_OVERDATALIMIT: past the plan's limit (throttled or charged extra).</summary>
    public const uint OverDataLimit = 0x10000;

    /// <summary>NLM_CONNECTION_COST_CONGESTED: congested; says nothing about money.</summary>
    public const uint Congested = 0x20000;

    /// <summary>NLM_CONNECTION_COST_ROAMING: roaming outside the provider's network.</summary>
    public const uint Roaming = 0x40000;

    /// <summary>NLM_CONNECTION_COST_APPROACHINGDATALIMIT: close to the plan's limit.</summary>
    public const uint ApproachingDataLimit = 0x80000;

    /// <summary>Every documented flag; a bit outside it is not understood and makes the answer Unknown.</summary>
    public const uint Documented = Unrestricted | Fixed | Variable | OverDataLimit | Congested | Roaming | ApproachingDataLimit;

    /// <summary>The flags that mean traffic costs money or quota.</summary>
    public const uint MeteredFlags = Fixed | Variable | OverDataLimit | Roaming;

    /// <summary>What a cost answer says about metering.</summary>
    public enum Verdict
    {
        /// <summary>Metered: a cap, per-byte charging, over the limit or roaming.</summary>
        Metered,

        /// <summary>Not metered: unrestricted and nothing that says otherwise.</summary>
        NotMetered,

        /// <summary>The OS does not know (NLM_CONNECTION_COST_UNKNOWN, or only congestion or approaching-limit hints).</summary>
        Unknown,

        /// <summary>Bits outside the documented set: the answer is not understood.</summary>
        Undocumented,
    }

    /// <summary>
    /// The rule: any metered flag (Fixed, Variable, OverDataLimit, Roaming) makes the connection
    /// metered, whatever else is set (a connection cannot be unrestricted and roaming at once;
    /// when flags contradict, the costly one wins because it is the one that costs money);
    /// Unrestricted alone (Congested and ApproachingDataLimit do not change it) is not metered;
    /// anything else, NLM_CONNECTION_COST_UNKNOWN included, is Unknown.
    /// </summary>
    public static Verdict Classify(uint cost) =>
        (cost & ~Documented) != 0 ? Verdict.Undocumented
        : (cost & MeteredFlags) != 0 ? Verdict.Metered
        : (cost & Unrestricted) != 0 ? Verdict.NotMetered
        : Verdict.Unknown;

    /// <summary>The cost as SDK names and its hexadecimal value: "FIXED|ROAMING (0x40002)".</summary>
    public static string Describe(uint cost)
    {
        var text = new StringBuilder();
        Append(text, cost, Unrestricted, "UNRESTRICTED");
        Append(text, cost, Fixed, "FIXED");
        Append(text, cost, Variable, "VARIABLE");
        Append(text, cost, OverDataLimit, "OVERDATALIMIT");
        Append(text, cost, Congested, "CONGESTED");
        Append(text, cost, Roaming, "ROAMING");
        Append(text, cost, ApproachingDataLimit, "APPROACHINGDATALIMIT");
        if ((cost & ~Documented) != 0)
        {
            Append(text, cost, cost & ~Documented, string.Create(CultureInfo.InvariantCulture, $"undocumented 0x{cost & ~Documented:X}"));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(text.Length == 0 ? "UNKNOWN" : text.ToString())} (0x{cost:X})");
    }

    /// <summary>The metered reading for a cost answer observed at <paramref name="at"/>.</summary>
    public static Reading<bool> ToReading(uint cost, DateTimeOffset at) => Classify(cost) switch
    {
        Verdict.Metered => Reading.Measured(true, at, $"{Source}: {Describe(cost)}"),
        Verdict.NotMetered => Reading.Measured(false, at, $"{Source}: {Describe(cost)}"),
        Verdict.Unknown => Reading.Unknown<bool>($"Windows does not know the connection's cost ({Source}: {Describe(cost)})", at),
        _ => Reading.Unknown<bool>($"{Source} answered flags outside NLM_CONNECTION_COST: {Describe(cost)}", at),
    };

    /// <summary>The source named in readings.</summary>
    public const string Source = "INetworkCostManager::GetCost";

    private static void Append(StringBuilder text, uint cost, uint flag, string name)
    {
        if ((cost & flag) == 0)
        {
            return;
        }

        if (text.Length > 0)
        {
            text.Append('|');
        }

        text.Append(name);
    }
}
