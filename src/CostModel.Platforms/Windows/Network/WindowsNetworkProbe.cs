using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// The network link on Windows: the default route's interface (<c>GetBestInterfaceEx</c> towards a
/// public IPv4 address, else IPv6), its receive and transmit rates from the 64-bit octet counters
/// of <c>GetIfEntry2</c>, and whether Windows says the connection is metered
/// (<c>INetworkCostManager::GetCost</c>, cached by <see cref="WindowsMeteredMonitor"/>, never asked
/// on the collection path). The route is looked up every <see cref="Cadence.RouteInterval"/>
/// (sooner after a failure or when the interface vanished); the counters are read every pass.
/// Available bandwidth is left to the scorer's estimator, as on Linux: the link speed is only a
/// ceiling and is named in the reason. See docs/windows/network.md.
/// </summary>
internal sealed class WindowsNetworkProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "windows.network";

    internal const string FirstSampleReason = ByteCounterRates.FirstSampleReason;
    internal const string NoTimeElapsedReason = ByteCounterRates.NoTimeElapsedReason;
    internal const string NoBandwidthReason = "no transfer observed; the scorer's estimator supplies it";
    internal const string LoopbackRouteReason = "no default route: the route to the internet leads to the loopback interface";

    /// <summary>Win32 errors that mean "no route" rather than a failure: ERROR_FILE_NOT_FOUND (2), ERROR_NOT_FOUND (1168), ERROR_NETWORK_UNREACHABLE (1231), ERROR_HOST_UNREACHABLE (1232).</summary>
    private static readonly uint[] NoRouteErrors = [2, 1168, 1231, 1232];

    /// <summary>Win32 errors of <c>GetIfEntry2</c> that mean the interface is gone: ERROR_FILE_NOT_FOUND (2), ERROR_NOT_FOUND (1168), ERROR_INVALID_PARAMETER (87: the index no longer names one).</summary>
    private static readonly uint[] GoneErrors = [2, 87, 1168];

    private readonly IWindowsNetworkApi _api;
    private readonly IProbeFailureReporter _failures;
    private readonly WindowsMeteredMonitor _metered;
    private readonly Cadence _routes = new(Cadence.RouteInterval);
    private MibIfRow2 _row;
    private DefaultInterface? _default;

    // Built when the last route lookup found no default route; reused (with its time) until the next lookup.
    private NetworkFactors? _noDefault;

    /// <summary>Creates the probe on the real IP Helper and Network List Manager (the constructor the container uses).</summary>
    [SupportedOSPlatform("windows")]
    public WindowsNetworkProbe(IProbeFailureReporter failures, TimeProvider timeProvider)
        : this(Win32NetworkApi.Instance, new NetworkCostManagerApi(), failures, timeProvider, WineHost.IsWine)
    {
    }

    /// <summary>Creates the probe on the given calls (tests pass fakes of the raw rows and HRESULTs).</summary>
    internal WindowsNetworkProbe(IWindowsNetworkApi api, INetworkCostApi cost, IProbeFailureReporter failures, TimeProvider timeProvider, bool isWine)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _api = api;
        _failures = failures;
        _metered = new WindowsMeteredMonitor(cost, timeProvider, failures, ProbeName, isWine);
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Network;

    /// <summary>The metered cache (tests read its state).</summary>
    internal WindowsMeteredMonitor Metered => _metered;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider clock = snapshot.TimeProvider;
        DateTimeOffset now = clock.GetUtcNow();
        long timestamp = clock.GetTimestamp();

        if (_routes.IsDue(clock, timestamp))
        {
            ReadRoute(now, timestamp);
        }

        if (_default is not { } current)
        {
            snapshot.Network = _noDefault!;
            return;
        }

        ReadCounters(current, now, timestamp, clock, out Reading<double> receive, out Reading<double> transmit);
        current = _default ?? current;
        snapshot.Network = new NetworkFactors
        {
            DefaultInterface = current.Name,
            Metered = _metered.Current,
            ReceiveBytesPerSecond = receive,
            TransmitBytesPerSecond = transmit,
            BandwidthBitsPerSecond = Reading.Unknown<double>(current.BandwidthReason, now),
            BandwidthSampleCount = 0,
        };
    }

    public void Dispose() => _metered.Dispose();

    /// <summary>
    /// Asks the routing table for the interface towards the internet (IPv4, else IPv6) and switches
    /// <see cref="_default"/> to it; with none, builds the record every pass serves until the next lookup.
    /// </summary>
    private void ReadRoute(DateTimeOffset now, long timestamp)
    {
        uint v4 = _api.GetBestInterface(AddressFamily.InterNetwork, out uint index);
        uint v6 = 0;
        if (v4 != 0)
        {
            v6 = _api.GetBestInterface(AddressFamily.InterNetworkV6, out index);
        }

        if (v4 != 0 && v6 != 0)
        {
            string reason = string.Create(CultureInfo.InvariantCulture,
                $"no default route (GetBestInterfaceEx: IPv4 error {v4}, IPv6 error {v6})");
            bool failed = !IsNoRoute(v4) || !IsNoRoute(v6);
            if (failed)
            {
                Fail("io", reason);
            }

            NoDefault(reason, now, timestamp, succeeded: !failed);
            return;
        }

        if (_default is { } known && known.Index == index)
        {
            // Same interface: the pass's GetIfEntry2 checks that it is the same object (its LUID).
            _routes.Completed(timestamp, succeeded: true);
            return;
        }

        var row = default(MibIfRow2);
        row.InterfaceIndex = index;
        uint error = _api.GetIfEntry(ref row);
        if (error != 0)
        {
            string reason = string.Create(CultureInfo.InvariantCulture,
                $"GetBestInterfaceEx chose interface {index}, but GetIfEntry2 failed for it: error {error}");
            NoDefault(Fail("io", reason), now, timestamp, succeeded: false);
            return;
        }

        if (row.Type == MibIfRow2.TypeSoftwareLoopback)
        {
            NoDefault(LoopbackRouteReason, now, timestamp, succeeded: true);
            return;
        }

        _routes.Completed(timestamp, succeeded: true);
        _noDefault = null;
        bool changed = _default is not null;
        _default = new DefaultInterface(in row);
        if (changed)
        {
            _metered.DefaultInterfaceChanged();
        }
    }

    private void NoDefault(string reason, DateTimeOffset now, long timestamp, bool succeeded)
    {
        _routes.Completed(timestamp, succeeded);
        _default = null;
        Reading<double> none = Reading.Unknown<double>(reason, now);
        _noDefault = new NetworkFactors
        {
            DefaultInterface = null,
            Metered = _metered.Current,
            ReceiveBytesPerSecond = none,
            TransmitBytesPerSecond = none,
            BandwidthBitsPerSecond = Reading.Unknown<double>(NoBandwidthReason, now),
            BandwidthSampleCount = 0,
        };
    }

    /// <summary>
    /// Reads the default interface's row and turns the octet counters into rates. A row of another
    /// interface under the same index (a new LUID: removed and added again) restarts the samples;
    /// counters that went backwards restart them too and are never turned into a negative rate.
    /// </summary>
    private void ReadCounters(DefaultInterface current, DateTimeOffset now, long timestamp, TimeProvider clock, out Reading<double> receive, out Reading<double> transmit)
    {
        _row.InterfaceIndex = current.Index;
        uint error = _api.GetIfEntry(ref _row);
        if (error != 0)
        {
            // Vanished (unplugged, a VPN disconnected) or failing: look the route up again next pass.
            _routes.Expire();
            current.Rates.Forget();
            bool gone = Array.IndexOf(GoneErrors, error) >= 0;
            string reason = Fail(gone ? "missing" : "io", string.Create(CultureInfo.InvariantCulture,
                $"{current.Name} carries the default route but GetIfEntry2 failed for interface {current.Index}: error {error}"));
            receive = transmit = Reading.Unknown<double>(reason, now);
            return;
        }

        if (_row.InterfaceLuid != current.Luid)
        {
            // The index now names another interface (indexes are reused): start over with it.
            current = new DefaultInterface(in _row);
            _default = current;
            _metered.DefaultInterfaceChanged();
        }
        else if (!_row.AliasSpan.SequenceEqual(current.Alias))
        {
            // Renamed by the user: same interface, same counters; only the name changes.
            current.Rename(in _row);
        }

        current.UpdateLinkSpeed(_row.ReceiveLinkSpeed, _row.TransmitLinkSpeed, this);

        ulong rx = _row.InOctets;
        ulong tx = _row.OutOctets;
        if (current.Rates.Next(current.Name, rx, tx, timestamp, clock, now, current.RateSource, out receive, out transmit) is { } implausible)
        {
            receive = transmit = Reading.Unknown<double>(Fail(Plausible.OutOfRangeKind, implausible), now);
        }
    }

    private static bool IsNoRoute(uint error) => Array.IndexOf(NoRouteErrors, error) >= 0;

    private string Fail(string kind, string reason)
    {
        _failures.Report(ProbeName, kind, reason);
        return reason;
    }

    /// <summary>
    /// The name shown for an interface: its alias ("Ethernet", "Wi-Fi"), the name users see, rename
    /// and key <c>CostModel:Collection:MeteredInterfaces</c> by; cut to
    /// <see cref="NetworkFactors.MaxInterfaceNameLength"/> characters, never inside a surrogate pair.
    /// An alias that is empty or has control characters (C0, DEL and C1: every character
    /// <see cref="char.IsControl(char)"/> names, which the model refuses in a name) gives
    /// "interface N" (its index) instead. The characters are checked one by one: the span's
    /// <c>ContainsAnyInRange</c> over <c>char</c> allocated 96 bytes a call on .NET 10.0 here.
    /// </summary>
    internal static string DisplayName(ReadOnlySpan<char> alias, uint index)
    {
        ReadOnlySpan<char> trimmed = alias.Trim();
        bool control = false;
        foreach (char c in trimmed)
        {
            control |= char.IsControl(c);
        }

        if (trimmed.IsEmpty || control)
        {
            return string.Create(CultureInfo.InvariantCulture, $"interface {index}");
        }

        if (trimmed.Length <= NetworkFactors.MaxInterfaceNameLength)
        {
            return new string(trimmed);
        }

        // A cut between the halves of a pair would leave half a character (which the model would keep as U+FFFD).
        int length = char.IsHighSurrogate(trimmed[NetworkFactors.MaxInterfaceNameLength - 1]) ? NetworkFactors.MaxInterfaceNameLength - 1 : NetworkFactors.MaxInterfaceNameLength;
        return new string(trimmed[..length]);
    }

    /// <summary>The interface of the default route and its previous counter sample.</summary>
    private sealed class DefaultInterface
    {
        private ulong _receiveLinkSpeed = ulong.MaxValue - 1;
        private ulong _transmitLinkSpeed = ulong.MaxValue - 1;

        public DefaultInterface(in MibIfRow2 row)
        {
            Index = row.InterfaceIndex;
            Luid = row.InterfaceLuid;
            Name = string.Empty;
            Alias = string.Empty;
            RateSource = string.Empty;
            BandwidthReason = NoBandwidthReason;
            Rename(in row);
        }

        public uint Index { get; }

        public ulong Luid { get; }

        public string Name { get; private set; }

        /// <summary>The raw alias, compared with each pass's row to notice a rename.</summary>
        public string Alias { get; private set; }

        public string RateSource { get; private set; }

        public string BandwidthReason { get; private set; }

        public ByteCounterRates Rates { get; } = new();

        public void Rename(in MibIfRow2 row)
        {
            Alias = new string(row.AliasSpan);
            Name = DisplayName(row.AliasSpan, Index);
            RateSource = string.Create(CultureInfo.InvariantCulture, $"GetIfEntry2 InOctets/OutOctets of {Name} (ifIndex {Index})");
        }

        /// <summary>Rebuilds the bandwidth reason when a link speed changed (rare: a renegotiation, a Wi-Fi rate step).</summary>
        public void UpdateLinkSpeed(ulong receive, ulong transmit, WindowsNetworkProbe probe)
        {
            if (receive == _receiveLinkSpeed && transmit == _transmitLinkSpeed)
            {
                return;
            }

            _receiveLinkSpeed = receive;
            _transmitLinkSpeed = transmit;
            string source = $"GetIfEntry2 of {Name}";
            string? rx = Describe("receive", receive, source, probe);
            string? tx = Describe("transmit", transmit, source, probe);
            BandwidthReason = string.Create(CultureInfo.InvariantCulture,
                $"{NoBandwidthReason} (link speed {rx}, {tx}: a ceiling, not the available bandwidth)");
        }

        private static string Describe(string direction, ulong bitsPerSecond, string source, WindowsNetworkProbe probe)
        {
            if (bitsPerSecond is 0 or ulong.MaxValue)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{direction} not reported ({bitsPerSecond})");
            }

            if (!WindowsNetworkRanges.LinkSpeedBitsPerSecond.Contains(bitsPerSecond))
            {
                string raw = bitsPerSecond.ToString(CultureInfo.InvariantCulture);
                probe.Fail(Plausible.OutOfRangeKind, Plausible.Reason(WindowsNetworkRanges.LinkSpeedBitsPerSecond, $"{source} {direction}", raw));
                return string.Create(CultureInfo.InvariantCulture, $"{direction} implausible ({raw})");
            }

            return string.Create(CultureInfo.InvariantCulture, $"{direction} {bitsPerSecond} bits/s");
        }
    }
}
