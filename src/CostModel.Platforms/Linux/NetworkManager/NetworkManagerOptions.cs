namespace CostModel.Platforms.Linux.NetworkManager;

/// <summary>
/// Where and how often the NetworkManager metered lookup runs. Internal: hosts configure only
/// <see cref="LinuxProbeOptions.UseNetworkManager"/>; tests point <see cref="BusAddress"/> at a private bus.
/// </summary>
internal sealed class NetworkManagerOptions
{
    /// <summary>The system bus socket when <c>DBUS_SYSTEM_BUS_ADDRESS</c> is not set (the D-Bus specification's well-known address).</summary>
    internal const string WellKnownSystemBusAddress = "unix:path=/var/run/dbus/system_bus_socket";

    /// <summary>The environment variable that overrides the system bus address (D-Bus specification, "Well-known Message Bus Instances").</summary>
    internal const string SystemBusAddressVariable = "DBUS_SYSTEM_BUS_ADDRESS";

    /// <summary>
    /// 10 s: the metered state changes when the user switches networks or edits a connection
    /// (seconds to hours apart); asking every 10 s costs two D-Bus round trips (well under 1 ms of
    /// CPU) and bounds how long a changed answer goes unseen. A change of the default interface
    /// triggers a refresh at once, so network switches are not delayed by this interval.
    /// </summary>
    internal static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// 5 min: after repeated failures (no bus, NetworkManager not running) the retry delay doubles
    /// from <see cref="DefaultRefreshInterval"/> up to this, so a machine without NetworkManager
    /// costs one connection attempt every 5 minutes, while a NetworkManager started later is
    /// still found within minutes.
    /// </summary>
    internal static readonly TimeSpan DefaultMaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>
    /// 5 s: NetworkManager answers property reads in about a millisecond; libdbus waits 25 s by
    /// default, which would hold a stuck bus for more than two refresh intervals. A call that
    /// takes longer than this is abandoned and the connection is reopened on the next refresh.
    /// </summary>
    internal static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The D-Bus address of the system bus. Default: <c>DBUS_SYSTEM_BUS_ADDRESS</c>, else <see cref="WellKnownSystemBusAddress"/>.</summary>
    public string BusAddress { get; init; } = SystemBusAddress();

    /// <summary>Time between refreshes while answers arrive. Default <see cref="DefaultRefreshInterval"/>.</summary>
    public TimeSpan RefreshInterval { get; init; } = DefaultRefreshInterval;

    /// <summary>Longest retry delay after failures. Default <see cref="DefaultMaxBackoff"/>.</summary>
    public TimeSpan MaxBackoff { get; init; } = DefaultMaxBackoff;

    /// <summary>Longest wait for one connection or call. Default <see cref="DefaultCallTimeout"/>.</summary>
    public TimeSpan CallTimeout { get; init; } = DefaultCallTimeout;

    /// <summary>The system bus address from the environment, or the well-known socket.</summary>
    internal static string SystemBusAddress() =>
        Environment.GetEnvironmentVariable(SystemBusAddressVariable) is { Length: > 0 } address
            ? address
            : WellKnownSystemBusAddress;
}
