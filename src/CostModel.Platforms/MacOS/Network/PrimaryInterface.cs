using System.Globalization;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// Reads the primary interface from a SystemConfiguration dynamic-store value
/// (<c>State:/Network/Global/IPv4</c>, else <c>State:/Network/Global/IPv6</c>): the dictionary
/// configd's IPMonitor publishes for the service that carries the default route, with
/// <c>PrimaryInterface</c> (a BSD name such as "en0" or "utun4"), <c>PrimaryService</c> (a
/// service id) and <c>Router</c>. What <c>scutil</c> prints for <c>show State:/Network/Global/IPv4</c>.
/// </summary>
internal static class PrimaryInterface
{
    /// <summary>The IPv4 global state key (<c>kSCDynamicStoreDomainState</c> + <c>kSCCompNetwork</c> + <c>kSCCompGlobal</c> + <c>kSCEntNetIPv4</c>).</summary>
    internal const string IPv4Key = "State:/Network/Global/IPv4";

    /// <summary>The IPv6 global state key, read when IPv4 has no primary service.</summary>
    internal const string IPv6Key = "State:/Network/Global/IPv6";

    /// <summary><c>kSCDynamicStorePropNetPrimaryInterface</c>.</summary>
    internal const string InterfaceProperty = "PrimaryInterface";

    /// <summary><c>IFNAMSIZ</c> (<c>&lt;net/if.h&gt;</c>) is 16 bytes with the terminating NUL: a BSD interface name has at most 15 characters.</summary>
    internal const int MaxNameLength = 15;

    /// <summary>The primary interface named by <paramref name="value"/> (the value at <paramref name="key"/>).</summary>
    /// <param name="value">The dictionary, or null when the key has no value (no primary service for that protocol).</param>
    /// <param name="key">The key it was read from, for the problem text.</param>
    public static PrimaryLookup Parse(IReadOnlyDictionary<string, object>? value, string key)
    {
        if (value is null)
        {
            return new PrimaryLookup(null, null);
        }

        if (!PropertyValues.TryGetString(value, InterfaceProperty, out string? name))
        {
            return new PrimaryLookup(null, $"{key} has no primary interface name: {PropertyValues.Describe(value, InterfaceProperty)}");
        }

        return IsValidName(name)
            ? new PrimaryLookup(name, null)
            : new PrimaryLookup(null, string.Create(CultureInfo.InvariantCulture,
                $"{key} names a primary interface that is not a BSD interface name: {PropertyValues.Describe(value, InterfaceProperty)} ({name.Length} characters)"));
    }

    /// <summary>
    /// 1 to <see cref="MaxNameLength"/> printable ASCII characters, none of them a space or '/'. A loop:
    /// <c>IndexOfAnyExceptInRange</c> over <c>char</c> allocated 96 bytes a call on .NET 10.0 here.
    /// </summary>
    public static bool IsValidName(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is < '!' or > '~' or '/')
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The outcome of <see cref="PrimaryInterface.Parse"/>.</summary>
/// <param name="Name">The interface name when the value names a valid one.</param>
/// <param name="Problem">What is wrong with the value when it is present but unusable; null when it is absent or good.</param>
internal readonly record struct PrimaryLookup(string? Name, string? Problem);
