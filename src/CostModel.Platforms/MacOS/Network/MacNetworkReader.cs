using System.Globalization;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// The logic of <see cref="MacNetworkProbe"/>, on any OS: the primary interface from the
/// SystemConfiguration dynamic store (read every <see cref="Cadence.RouteInterval"/>, sooner
/// after a failure or when the interface leaves the interface list), its receive and transmit
/// rates from the 64-bit byte counters of <c>sysctl NET_RT_IFLIST2</c> (read every pass), its link
/// speed from <c>ifi_baudrate</c>, and whether its path is metered from the latest
/// Network.framework path update. Available bandwidth is left to the scorer's estimator, as on
/// Linux. See docs/macos/network.md.
/// </summary>
internal sealed class MacNetworkReader
{
    /// <summary>The probe's name, under which failures are reported.</summary>
    public const string ProbeName = "macos.network";

    /// <summary>
    /// 8e12 bits/s (8 Tbit/s): the bound of <see cref="ByteCounterRates.MaxPlausibleBytesPerSecond"/> for a link speed; a larger <c>ifi_baudrate</c> is not
    /// a link any Mac has (the fastest ports are Thunderbolt 5 at 120 Gbit/s, 1.2e11).
    /// </summary>
    internal const double MaxPlausibleLinkBitsPerSecond = 8e12;

    internal const string FirstSampleReason = ByteCounterRates.FirstSampleReason;
    internal const string NoBandwidthReason = "no transfer observed; the scorer's estimator supplies it";
    internal const string NoPrimaryReason = "no primary interface (neither IPv4 nor IPv6 has a primary service)";
    internal const string NoTimeElapsedReason = ByteCounterRates.NoTimeElapsedReason;
    internal const string NoLinkSpeedReason = "ifi_baudrate is 0: the driver reports no link speed";
    internal const string NoSampleReason = "no counters read yet";

    private readonly IMacNetworkSource _source;
    private readonly IMacPathMonitor? _paths;
    private readonly string _pathsUnavailableReason;
    private readonly IProbeFailureReporter _failures;
    private readonly Cadence _routes = new(Cadence.RouteInterval);
    private readonly InterfaceListBuffer _list = new();

    private PrimaryState? _current;

    // Built when the last store read found no primary interface; reused (with its time) until the next read.
    private NetworkFactors? _noPrimary;

    private PathUpdate? _seenUpdate;
    private string _meteredSource = string.Empty;

    /// <summary>Creates the logic over its OS calls.</summary>
    /// <param name="source">The dynamic store, interface indexes and the interface list.</param>
    /// <param name="paths">The path monitor, or null when it could not start (then <paramref name="pathsUnavailableReason"/> says why).</param>
    /// <param name="pathsUnavailableReason">Why there is no path monitor.</param>
    /// <param name="failures">Where failed reads are counted.</param>
    public MacNetworkReader(IMacNetworkSource source, IMacPathMonitor? paths, string? pathsUnavailableReason, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(failures);
        _source = source;
        _paths = paths;
        _pathsUnavailableReason = pathsUnavailableReason ?? "the Network.framework path monitor is not running";
        _failures = failures;
    }

    /// <summary>The link speed of the primary interface at the last pass (<c>ifi_baudrate</c>, bits/s). <see cref="NetworkFactors"/> has no field for it; it is shown in the rates' source and here.</summary>
    public Reading<double> LinkBitsPerSecond { get; private set; } = Reading.Unknown<double>(NoSampleReason);

    /// <summary>The interface list buffer (its size is observable for tests).</summary>
    internal InterfaceListBuffer ListBuffer => _list;

    /// <summary>Fills <see cref="SnapshotBuilder.Network"/>; never throws for what the OS returns.</summary>
    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider clock = snapshot.TimeProvider;
        DateTimeOffset now = clock.GetUtcNow();
        long timestamp = clock.GetTimestamp();

        if (_routes.IsDue(clock, timestamp))
        {
            ReadPrimary(now, timestamp);
        }

        if (_current is not { } current)
        {
            LinkBitsPerSecond = Reading.Unknown<double>(_noPrimary!.ReceiveBytesPerSecond.Reason!, now);
            snapshot.Network = _noPrimary;
            return;
        }

        ReadRates(current, now, timestamp, clock, out Reading<double> receive, out Reading<double> transmit);
        snapshot.Network = new NetworkFactors
        {
            DefaultInterface = current.Name,
            Metered = ReadMetered(now),
            ReceiveBytesPerSecond = receive,
            TransmitBytesPerSecond = transmit,
            BandwidthBitsPerSecond = Reading.Unknown<double>(NoBandwidthReason, now),
            BandwidthSampleCount = 0,
        };
    }

    /// <summary>
    /// Reads the primary interface (IPv4, else IPv6) and its index; switches <see cref="_current"/>
    /// when either changed. With none, builds the record every pass serves until the next read.
    /// </summary>
    private void ReadPrimary(DateTimeOffset now, long timestamp)
    {
        string? problem = null;
        string? problemKind = null;
        string? name = null;
        foreach (string key in (ReadOnlySpan<string>)[PrimaryInterface.IPv4Key, PrimaryInterface.IPv6Key])
        {
            PrimaryLookup lookup;
            try
            {
                lookup = PrimaryInterface.Parse(_source.CopyStoreValue(key), key);
            }
            catch (InvalidDataException ex)
            {
                (problem, problemKind) = ($"{key}: {ex.Message}", "garbage");
                continue;
            }
            catch (IOException ex)
            {
                (problem, problemKind) = ($"cannot read {key} from the dynamic store: {ex.Message}", "io");
                continue;
            }

            if (lookup.Name is not null)
            {
                name = lookup.Name;
                break;
            }

            if (lookup.Problem is not null)
            {
                (problem, problemKind) = (lookup.Problem, "garbage");
            }
        }

        if (name is null)
        {
            string reason = problem is null ? NoPrimaryReason : Fail(problemKind!, problem);
            _routes.Completed(timestamp, problem is null);
            SetNoPrimary(reason, now);
            return;
        }

        uint index = _source.InterfaceIndex(name);
        if (index == 0)
        {
            // The store still names an interface that is gone (unplugged, a VPN just torn down).
            string reason = Fail("missing", $"{name} is the primary interface in the dynamic store but if_nametoindex knows no such interface");
            _routes.Completed(timestamp, false);
            SetNoPrimary(reason, now);
            return;
        }

        _routes.Completed(timestamp, true);
        _noPrimary = null;
        if (_current is not { } known || known.Index != index || !string.Equals(known.Name, name, StringComparison.Ordinal))
        {
            // A new interface, or the same name on a new index (removed and added again): its
            // counters are another object's, so the rate starts over.
            _current = new PrimaryState(name, index);
        }
    }

    private void SetNoPrimary(string reason, DateTimeOffset now)
    {
        _current = null;
        Reading<double> none = Reading.Unknown<double>(reason, now);
        _noPrimary = new NetworkFactors
        {
            DefaultInterface = null,
            Metered = Reading.Unknown<bool>(reason, now),
            ReceiveBytesPerSecond = none,
            TransmitBytesPerSecond = none,
            BandwidthBitsPerSecond = Reading.Unknown<double>(NoBandwidthReason, now),
            BandwidthSampleCount = 0,
        };
    }

    private void ReadRates(PrimaryState current, DateTimeOffset now, long timestamp, TimeProvider clock, out Reading<double> receive, out Reading<double> transmit)
    {
        if (!_list.TryRead(_source, out ReadOnlySpan<byte> list, out string? error, out string? kind))
        {
            receive = transmit = Reading.Unknown<double>(Fail(kind!, $"cannot read the byte counters: {error}"), now);
            LinkBitsPerSecond = Reading.Unknown<double>(receive.Reason!, now);
            return;
        }

        InterfaceListResult found = InterfaceList.Find(list, current.Index);
        if (found.Status != InterfaceListStatus.Found)
        {
            string reason;
            if (found.Status == InterfaceListStatus.Missing)
            {
                // Gone since the store was read: start over when it returns, and ask the store again next pass.
                reason = Fail("missing", string.Create(CultureInfo.InvariantCulture,
                    $"{current.Name} (index {current.Index}) is the primary interface but is not in the sysctl NET_RT_IFLIST2 interface list"));
                current.Rates.Forget();
                _routes.Expire();
            }
            else
            {
                reason = Fail("garbage", $"the sysctl NET_RT_IFLIST2 interface list is malformed: {found.Problem}");
            }

            receive = transmit = Reading.Unknown<double>(reason, now);
            LinkBitsPerSecond = Reading.Unknown<double>(reason, now);
            return;
        }

        InterfaceCounters counters = found.Counters;
        UpdateLink(current, counters.BaudRate, now);
        ulong rx = counters.ReceiveBytes;
        ulong tx = counters.TransmitBytes;
        if (current.Rates.Next(current.Name, rx, tx, timestamp, clock, now, current.RateSource, out receive, out transmit) is { } implausible)
        {
            receive = transmit = Reading.Unknown<double>(Fail("out-of-range", implausible), now);
        }
    }

    /// <summary>Validates <c>ifi_baudrate</c> and rebuilds the rates' source text when it changed (rare: allocates then only).</summary>
    private void UpdateLink(PrimaryState current, ulong baudRate, DateTimeOffset now)
    {
        if (!current.HasLink || current.BaudRate != baudRate)
        {
            current.HasLink = true;
            current.BaudRate = baudRate;
            string link;
            if (baudRate == 0)
            {
                link = "link speed not reported";
                current.LinkReason = NoLinkSpeedReason;
            }
            else if (baudRate > MaxPlausibleLinkBitsPerSecond)
            {
                link = "link speed implausible";
                current.LinkReason = Fail("out-of-range", string.Create(CultureInfo.InvariantCulture,
                    $"{current.Name} reports ifi_baudrate {baudRate} bits/s, more than {MaxPlausibleLinkBitsPerSecond:0.#e0}"));
            }
            else
            {
                link = "link " + FormatBits(baudRate);
                current.LinkReason = null;
            }

            current.RateSource = string.Create(CultureInfo.InvariantCulture, $"sysctl NET_RT_IFLIST2 {current.Name} (index {current.Index}, {link})");
        }

        LinkBitsPerSecond = current.LinkReason is null
            ? Reading.Measured((double)baudRate, now, current.RateSource)
            : Reading.Unknown<double>(current.LinkReason, now);
    }

    private static string FormatBits(ulong bits) => bits switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bits / 1e9:0.###} Gbit/s"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{bits / 1e6:0.###} Mbit/s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bits} bit/s"),
    };

    private Reading<bool> ReadMetered(DateTimeOffset now)
    {
        if (_paths is null)
        {
            return Reading.Unknown<bool>(_pathsUnavailableReason, now);
        }

        PathUpdate? update = _paths.Latest;
        if (update is not null && !ReferenceEquals(update, _seenUpdate))
        {
            // Once per update: the source text, and a report when the status is not one the header defines.
            _seenUpdate = update;
            _meteredSource = PathMetered.SourceOf(update);
            if (!PathMetered.IsKnownStatus(update.Status))
            {
                Fail("out-of-range", PathMetered.UnusableReason(update.Status));
            }
        }

        return PathMetered.ToReading(update, now, _meteredSource);
    }

    private string Fail(string kind, string reason)
    {
        _failures.Report(ProbeName, kind, reason);
        return reason;
    }

    /// <summary>The primary interface, its index and its previous counter sample.</summary>
    private sealed class PrimaryState(string name, uint index)
    {
        public string Name { get; } = name;

        public uint Index { get; } = index;

        public string RateSource { get; set; } = string.Create(CultureInfo.InvariantCulture, $"sysctl NET_RT_IFLIST2 {name} (index {index})");

        public bool HasLink { get; set; }

        public ulong BaudRate { get; set; }

        public string? LinkReason { get; set; }

        public ByteCounterRates Rates { get; } = new();
    }
}
