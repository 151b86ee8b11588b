using System.Globalization;
using CostModel.Factors;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// Turns a Network.framework path update into the <c>Metered</c> reading: a satisfied path is
/// metered when it is expensive (cellular, personal hotspot) or constrained (Low Data Mode), and
/// not metered otherwise; any other status, or no update yet, is Unknown with the reason. Never
/// from SSIDs or interface names. The operator override (<c>CostModel:Collection:Metered</c>,
/// <c>MeteredInterfaces</c>) is applied after the probe by the collector and wins.
/// </summary>
internal static class PathMetered
{
    /// <summary><c>nw_path_status_invalid</c> (<c>&lt;Network/path.h&gt;</c>).</summary>
    internal const int StatusInvalid = 0;

    /// <summary><c>nw_path_status_satisfied</c>: a usable route.</summary>
    internal const int StatusSatisfied = 1;

    /// <summary><c>nw_path_status_unsatisfied</c>: no usable route.</summary>
    internal const int StatusUnsatisfied = 2;

    /// <summary><c>nw_path_status_satisfiable</c>: no route now; a connection attempt would bring one up.</summary>
    internal const int StatusSatisfiable = 3;

    internal const string NoUpdateReason = "no path update yet from Network.framework";

    /// <summary>The reading for <paramref name="update"/>, stamped <paramref name="now"/>: updates are pushed on every change, so the latest one stands until the next.</summary>
    /// <param name="update">The latest update, or null.</param>
    /// <param name="now">This pass's time.</param>
    /// <param name="source">The source text for a satisfied path (built once per update by the caller).</param>
    public static Reading<bool> ToReading(PathUpdate? update, DateTimeOffset now, string source) => update switch
    {
        null => Reading.Unknown<bool>(NoUpdateReason, now),
        { Status: StatusSatisfied } => Reading.Measured(update.IsExpensive || update.IsConstrained, now, source),
        _ => Reading.Unknown<bool>(UnusableReason(update.Status), now),
    };

    /// <summary>Whether the status is one <c>&lt;Network/path.h&gt;</c> defines.</summary>
    public static bool IsKnownStatus(int status) => status is >= StatusInvalid and <= StatusSatisfiable;

    /// <summary>The source text of a satisfied path's reading.</summary>
    public static string SourceOf(PathUpdate update) => string.Create(CultureInfo.InvariantCulture,
        $"Network.framework nw_path (default route): expensive={Flag(update.IsExpensive)}, constrained={Flag(update.IsConstrained)}, updated {update.ReceivedAt:O}");

    /// <summary>Why a path that is not satisfied says nothing about cost.</summary>
    public static string UnusableReason(int status) => status switch
    {
        StatusInvalid => "Network.framework reports an invalid path",
        StatusUnsatisfied => "Network.framework reports no usable path (unsatisfied)",
        StatusSatisfiable => "Network.framework reports no path now; one would be brought up on demand (satisfiable)",
        _ => string.Create(CultureInfo.InvariantCulture, $"nw_path_get_status returned {status}, not a status <Network/path.h> defines"),
    };

    private static string Flag(bool value) => value ? "yes" : "no";
}
