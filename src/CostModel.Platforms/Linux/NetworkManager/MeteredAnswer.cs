using CostModel.Factors;

namespace CostModel.Platforms.Linux.NetworkManager;

/// <summary>
/// The last answer about the metered state, published whole so the collection thread reads it
/// with one reference read.
/// </summary>
/// <param name="Interface">
/// The interface the answer is about, or null when it holds whatever the interface (the bus or
/// NetworkManager is missing).
/// </param>
/// <param name="Metered">The reading: Measured with NetworkManager as its source, or Unknown with the reason.</param>
internal sealed record MeteredAnswer(string? Interface, Reading<bool> Metered)
{
    /// <summary>
    /// Maps NetworkManager's <c>NMMetered</c> value of <paramref name="interfaceName"/>'s device:
    /// yes and guess-yes are metered, no and guess-no are not, unknown stays Unknown.
    /// </summary>
    /// <returns>The answer, or null when <paramref name="value"/> is not a documented NMMetered value.</returns>
    public static MeteredAnswer? FromNetworkManager(string interfaceName, uint value, DateTimeOffset at) => value switch
    {
        (uint)NMMetered.Yes => new(interfaceName, Reading.Measured(true, at, $"NetworkManager: device {interfaceName} Metered=yes (1)")),
        (uint)NMMetered.GuessYes => new(interfaceName, Reading.Measured(true, at, $"NetworkManager: device {interfaceName} Metered=guess-yes (3, NetworkManager's heuristic)")),
        (uint)NMMetered.No => new(interfaceName, Reading.Measured(false, at, $"NetworkManager: device {interfaceName} Metered=no (2)")),
        (uint)NMMetered.GuessNo => new(interfaceName, Reading.Measured(false, at, $"NetworkManager: device {interfaceName} Metered=guess-no (4, NetworkManager's heuristic)")),
        (uint)NMMetered.Unknown => new(interfaceName, Reading.Unknown<bool>($"NetworkManager does not know whether {interfaceName} is metered (Metered=unknown, 0)", at)),
        _ => null,
    };
}

/// <summary>NetworkManager's NMMetered enumeration (libnm <c>nm-dbus-interface.h</c>).</summary>
internal enum NMMetered : uint
{
    /// <summary>NM_METERED_UNKNOWN: the metered status is unknown.</summary>
    Unknown = 0,

    /// <summary>NM_METERED_YES: metered, set explicitly.</summary>
    Yes = 1,

    /// <summary>NM_METERED_NO: not metered, set explicitly.</summary>
    No = 2,

    /// <summary>NM_METERED_GUESS_YES: metered, guessed by NetworkManager (a mobile broadband device, a phone's hotspot announcing it).</summary>
    GuessYes = 3,

    /// <summary>NM_METERED_GUESS_NO: not metered, guessed by NetworkManager.</summary>
    GuessNo = 4,
}
