using System.Buffers.Text;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux.NetworkManager;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Linux;

/// <summary>
/// The network link: the default route's interface (<c>/proc/net/route</c>, else
/// <c>/proc/net/ipv6_route</c>), its receive and transmit rates from the byte counters in
/// <c>/proc/net/dev</c>, and whether NetworkManager says its device is metered (cached by
/// <see cref="NetworkManagerMeteredMonitor"/>, never asked on the collection path).
/// The route tables are read every <see cref="Cadence.RouteInterval"/> (sooner after a failure
/// or when the default interface leaves /proc/net/dev); the byte counters every pass.
/// Available bandwidth is left to the scorer's estimator. See docs/linux/network.md.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class LinuxNetworkProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "linux.network";

    /// <summary>
    /// 30 s: interfaces appear and vanish rarely (a dock, a modem, a VPN coming up), and a change
    /// of the default interface triggers a rediscovery at once; listing <c>/sys/class/net</c> and
    /// reading two attributes per interface every 30 s costs well under a millisecond.
    /// </summary>
    internal static readonly TimeSpan RediscoverInterval = Rediscovery.DefaultInterval;

    /// <summary>ARPHRD_LOOPBACK (include/uapi/linux/if_arp.h): the sysfs <c>type</c> of a loopback interface.</summary>
    internal const int ArphrdLoopback = 772;

    internal const string FirstSampleReason = ByteCounterRates.FirstSampleReason;
    internal const string NoBandwidthReason = "no transfer observed; the scorer's estimator supplies it";
    internal const string NoDefaultRouteReason = "no default route (neither IPv4 nor IPv6)";
    internal const string NoTimeElapsedReason = ByteCounterRates.NoTimeElapsedReason;
    internal const string NetworkManagerDisabledReason = "NetworkManager lookup is disabled (CostModel:Linux:UseNetworkManager is false)";

    // Route flags (include/uapi/linux/route.h; /proc/net/ipv6_route uses the same bits).
    private const uint RtfUp = 0x0001;
    private const uint RtfReject = 0x0200;

    // /proc/net/dev has 8 receive and 8 transmit counters per interface; bytes are the first of each.
    private const int DevCounterCount = 16;
    private const int DevTransmitBytesIndex = 8;

    private readonly IProbeFailureReporter _failures;
    private readonly TimeProvider _timeProvider;
    private readonly KernelFile _route;
    private readonly KernelFile _ipv6Route;
    private readonly KernelFile _dev;
    private readonly string _sysClassNet;
    private readonly NetworkManagerMeteredMonitor? _metered;

    private readonly Cadence _routes = new(Cadence.RouteInterval);

    private InterfaceFacts[] _interfaces = [];
    private long _discoveredAt;
    private DefaultInterface? _default;

    // Built when the last route read found no default route; reused (with its time) until the next read.
    private NetworkFactors? _noDefault;

    /// <summary>Creates the probe (the constructor the container uses).</summary>
    public LinuxNetworkProbe(IOptions<LinuxProbeOptions> options, IProbeFailureReporter failures, TimeProvider timeProvider)
        : this(options, failures, timeProvider, new NetworkManagerOptions())
    {
    }

    /// <summary>Creates the probe with NetworkManager settings of its own (tests point it at a private bus).</summary>
    internal LinuxNetworkProbe(IOptions<LinuxProbeOptions> options, IProbeFailureReporter failures, TimeProvider timeProvider, NetworkManagerOptions networkManager)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(networkManager);
        LinuxProbeOptions o = options.Value;
        _failures = failures;
        _timeProvider = timeProvider;
        _route = new KernelFile(Path.Combine(o.ProcRoot, "net", "route"));
        _ipv6Route = new KernelFile(Path.Combine(o.ProcRoot, "net", "ipv6_route"));
        _dev = new KernelFile(Path.Combine(o.ProcRoot, "net", "dev"));
        _sysClassNet = Path.Combine(o.SysRoot, "class", "net");
        _metered = o.UseNetworkManager ? new NetworkManagerMeteredMonitor(networkManager, timeProvider, failures, ProbeName) : null;
        Discover();
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Network;

    /// <summary>The NetworkManager cache, or null when the lookup is disabled.</summary>
    internal NetworkManagerMeteredMonitor? MeteredMonitor => _metered;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider clock = snapshot.TimeProvider;
        DateTimeOffset now = clock.GetUtcNow();
        long timestamp = clock.GetTimestamp();

        if (_timeProvider.GetElapsedTime(_discoveredAt) >= RediscoverInterval)
        {
            // New interface facts (a loopback type, a new ifindex) may change which route counts.
            Discover();
            _routes.Expire();
        }

        if (_routes.IsDue(clock, timestamp))
        {
            ReadRoutes(now, timestamp);
        }

        if (_default is not { } current)
        {
            snapshot.Network = _noDefault!;
            return;
        }

        ReadRates(current, now, timestamp, clock, out Reading<double> receive, out Reading<double> transmit);
        snapshot.Network = new NetworkFactors
        {
            DefaultInterface = current.Name,
            Metered = ReadMetered(current, now),
            ReceiveBytesPerSecond = receive,
            TransmitBytesPerSecond = transmit,
            BandwidthBitsPerSecond = Reading.Unknown<double>(NoBandwidthReason, now),
            BandwidthSampleCount = 0,
        };
    }

    public void Dispose()
    {
        _metered?.Dispose();
        _route.Dispose();
        _ipv6Route.Dispose();
        _dev.Dispose();
    }

    /// <summary>
    /// Reads the route tables and switches <see cref="_default"/> to the interface found; with
    /// none, builds the record every pass serves until the next read. A failed read is retried next pass.
    /// </summary>
    private void ReadRoutes(DateTimeOffset now, long timestamp)
    {
        bool found = TryFindDefaultRoute(out ReadOnlySpan<byte> name, out string? routeError);
        _routes.Completed(timestamp, routeError is null);
        if (found)
        {
            _noDefault = null;
            if (_default is not { } known || !name.SequenceEqual(known.NameUtf8))
            {
                SetDefault(name);
            }

            return;
        }

        SetDefault(default);
        string reason = routeError ?? NoDefaultRouteReason;
        Reading<double> none = Reading.Unknown<double>(reason, now);
        _noDefault = new NetworkFactors
        {
            DefaultInterface = null,
            Metered = Reading.Unknown<bool>(reason, now),
            ReceiveBytesPerSecond = none,
            TransmitBytesPerSecond = none,
            BandwidthBitsPerSecond = Reading.Unknown<double>(NoBandwidthReason, now),
            BandwidthSampleCount = 0,
        };
    }

    /// <summary>
    /// Finds the default route's interface: IPv4 first (lowest metric wins), IPv6 when IPv4 has
    /// none. Routes that are not up, reject routes and loopback interfaces are skipped.
    /// </summary>
    /// <returns>False when there is no default route; <paramref name="error"/> says why when the tables could not be read.</returns>
    private bool TryFindDefaultRoute(out ReadOnlySpan<byte> name, out string? error)
    {
        error = null;
        bool ipv4Read = _route.TryRead(out ReadOnlySpan<byte> ipv4);
        if (ipv4Read)
        {
            if (TryFindIpv4Default(ipv4, out name, out bool garbage))
            {
                return true;
            }

            if (garbage)
            {
                error = Fail("garbage", $"{_route.Path} has lines that are not routes; no default route found in the others");
            }
        }
        else
        {
            error = Fail(_route.ErrorKind ?? "io", $"cannot read the IPv4 routes: {_route.Error}");
        }

        if (_ipv6Route.TryRead(out ReadOnlySpan<byte> ipv6))
        {
            if (TryFindIpv6Default(ipv6, out name, out bool garbage))
            {
                return true;
            }

            if (garbage)
            {
                error = Fail("garbage", $"{_ipv6Route.Path} has lines that are not routes; no default route found in the others");
            }
        }
        else if (!(ipv4Read && _ipv6Route.ErrorKind == "missing"))
        {
            // A kernel without IPv6 has no ipv6_route: not a failure when the IPv4 table was read.
            error = Fail(_ipv6Route.ErrorKind ?? "io", $"cannot read the IPv6 routes: {_ipv6Route.Error}");
        }

        name = default;
        return false;
    }

    /// <summary>
    /// /proc/net/route: a header, then "Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT"
    /// with Destination, Gateway and Mask as hexadecimal in network byte order, Flags hexadecimal, Metric decimal.
    /// </summary>
    internal bool TryFindIpv4Default(ReadOnlySpan<byte> content, out ReadOnlySpan<byte> name, out bool garbage)
    {
        name = default;
        garbage = false;
        long bestMetric = long.MaxValue;
        ReadOnlySpan<byte> rest = content;
        KernelText.NextLine(ref rest, out _); // header
        while (KernelText.NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            if (KernelText.Trim(line).IsEmpty)
            {
                continue;
            }

            if (!KernelText.NextField(ref line, out ReadOnlySpan<byte> iface)
                || !NextHex(ref line, out uint destination)
                || !KernelText.NextField(ref line, out _) // gateway
                || !NextHex(ref line, out uint flags)
                || !KernelText.NextField(ref line, out _) // refcnt
                || !KernelText.NextField(ref line, out _) // use
                || !KernelText.NextField(ref line, out ReadOnlySpan<byte> metricText)
                || !KernelText.TryParseInt64(metricText, out long metric)
                || !NextHex(ref line, out uint mask)
                || !IsValidInterfaceName(iface))
            {
                garbage = true;
                continue;
            }

            if (destination != 0 || mask != 0 || !IsUsableRoute(flags, iface) || metric >= bestMetric)
            {
                continue;
            }

            bestMetric = metric;
            name = iface;
        }

        return !name.IsEmpty;
    }

    /// <summary>
    /// /proc/net/ipv6_route: no header; "destination prefix-length source source-length next-hop
    /// metric refcnt use flags device", all hexadecimal except the device name.
    /// </summary>
    internal bool TryFindIpv6Default(ReadOnlySpan<byte> content, out ReadOnlySpan<byte> name, out bool garbage)
    {
        name = default;
        garbage = false;
        uint bestMetric = uint.MaxValue;
        bool found = false;
        ReadOnlySpan<byte> rest = content;
        while (KernelText.NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            if (KernelText.Trim(line).IsEmpty)
            {
                continue;
            }

            if (!KernelText.NextField(ref line, out ReadOnlySpan<byte> destination)
                || destination.Length != 32
                || !KernelText.NextField(ref line, out ReadOnlySpan<byte> prefixLength)
                || !KernelText.NextField(ref line, out _) // source
                || !KernelText.NextField(ref line, out _) // source prefix length
                || !KernelText.NextField(ref line, out _) // next hop
                || !NextHex(ref line, out uint metric)
                || !KernelText.NextField(ref line, out _) // refcnt
                || !KernelText.NextField(ref line, out _) // use
                || !NextHex(ref line, out uint flags)
                || !KernelText.NextField(ref line, out ReadOnlySpan<byte> iface)
                || !IsValidInterfaceName(iface))
            {
                garbage = true;
                continue;
            }

            if (destination.ContainsAnyExcept((byte)'0') || !prefixLength.SequenceEqual("00"u8)
                || !IsUsableRoute(flags, iface) || (found && metric >= bestMetric))
            {
                continue;
            }

            found = true;
            bestMetric = metric;
            name = iface;
        }

        return found;
    }

    private bool IsUsableRoute(uint flags, ReadOnlySpan<byte> iface) =>
        (flags & RtfUp) != 0
        && (flags & RtfReject) == 0
        && !iface.SequenceEqual("*"u8)
        && FindFacts(iface) is not { IsLoopback: true };

    private static bool NextHex(ref ReadOnlySpan<byte> rest, out uint value)
    {
        value = 0;
        return KernelText.NextField(ref rest, out ReadOnlySpan<byte> field)
            && Utf8Parser.TryParse(field, out value, out int consumed, 'X')
            && consumed == field.Length;
    }

    // Linux allows any bytes but '/', ':', whitespace and NUL in names of at most 15 bytes; control
    // characters would make the name unprintable, so such a line is treated as garbage.
    private static bool IsValidInterfaceName(ReadOnlySpan<byte> name) =>
        !name.IsEmpty
        && name.Length <= NetworkFactors.MaxInterfaceNameLength
        && name.IndexOfAnyInRange((byte)0, (byte)0x1F) < 0
        && !name.Contains((byte)0x7F);

    private void ReadRates(DefaultInterface current, DateTimeOffset now, long timestamp, TimeProvider clock, out Reading<double> receive, out Reading<double> transmit)
    {
        DevLine status = ReadCounters(current.NameUtf8, out ulong rx, out ulong tx);
        if (status != DevLine.Found)
        {
            string reason = status switch
            {
                DevLine.Unreadable => Fail(_dev.ErrorKind ?? "io", $"cannot read the byte counters: {_dev.Error}"),
                DevLine.Missing => Fail("missing", $"{current.Name} carries the default route but is not in {_dev.Path}"),
                _ => Fail("garbage", $"the {current.Name} line of {_dev.Path} is truncated or not numbers"),
            };

            // An interface that vanished starts over when it returns: its counters restart from 0.
            // Its route has probably gone with it: read the tables again on the next pass.
            if (status == DevLine.Missing)
            {
                current.Rates.Forget();
                _routes.Expire();
            }

            receive = transmit = Reading.Unknown<double>(reason, now);
            return;
        }

        bool recreated = current.Recreated;
        if (recreated)
        {
            current.Rates.Forget();
            current.Recreated = false;
        }

        if (current.Rates.Next(current.Name, rx, tx, timestamp, clock, now, current.RateSource, out receive, out transmit) is { } implausible)
        {
            receive = transmit = Reading.Unknown<double>(Fail("out-of-range", implausible), now);
        }
        else if (recreated)
        {
            receive = transmit = Reading.Unknown<double>($"{current.Name} was removed and added again; rate needs two new samples", now);
        }
    }

    /// <summary>
    /// /proc/net/dev: two header lines, then "name: rx-bytes rx-packets rx-errs rx-drop rx-fifo
    /// rx-frame rx-compressed rx-multicast tx-bytes tx-packets tx-errs tx-drop tx-fifo tx-colls
    /// tx-carrier tx-compressed", the name right-aligned.
    /// </summary>
    private DevLine ReadCounters(ReadOnlySpan<byte> name, out ulong receiveBytes, out ulong transmitBytes)
    {
        receiveBytes = 0;
        transmitBytes = 0;
        if (!_dev.TryRead(out ReadOnlySpan<byte> content))
        {
            return DevLine.Unreadable;
        }

        ReadOnlySpan<byte> rest = content;
        while (KernelText.NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            int colon = line.IndexOf((byte)':');
            if (colon < 0 || !line[..colon].Trim((byte)' ').SequenceEqual(name))
            {
                continue;
            }

            ReadOnlySpan<byte> counters = line[(colon + 1)..];
            for (int i = 0; i < DevCounterCount; i++)
            {
                if (!KernelText.NextField(ref counters, out ReadOnlySpan<byte> field) || !KernelText.TryParseUInt64(field, out ulong value))
                {
                    return DevLine.Garbage;
                }

                if (i == 0)
                {
                    receiveBytes = value;
                }
                else if (i == DevTransmitBytesIndex)
                {
                    transmitBytes = value;
                }
            }

            return DevLine.Found;
        }

        return DevLine.Missing;
    }

    private Reading<bool> ReadMetered(DefaultInterface current, DateTimeOffset now)
    {
        if (_metered is null)
        {
            return Reading.Unknown<bool>(NetworkManagerDisabledReason, now);
        }

        // The answer holds for the current interface, or for any (no bus, no NetworkManager).
        MeteredAnswer? answer = _metered.Current;
        return answer is not null && (answer.Interface is null || string.Equals(answer.Interface, current.Name, StringComparison.Ordinal))
            ? answer.Metered
            : Reading.Unknown<bool>(current.PendingMeteredReason, now);
    }

    /// <summary>Switches to a new default interface (rare: allocates its name and texts once).</summary>
    private DefaultInterface? SetDefault(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            if (_default is not null)
            {
                _default = null;
                _metered?.SetInterface(null);
            }

            return null;
        }

        if (FindFacts(name) is null)
        {
            // Probably a new interface (a modem or VPN just came up): learn its sysfs facts now.
            Discover();
        }

        InterfaceFacts? facts = FindFacts(name);
        string text = Encoding.UTF8.GetString(name);
        _default = new DefaultInterface(text, name.ToArray(), facts?.IfIndex ?? -1, RateSourceFor(text, facts));
        _metered?.SetInterface(text);
        return _default;
    }

    private string RateSourceFor(string name, InterfaceFacts? facts) => facts switch
    {
        null => $"{_dev.Path} {name} (no sysfs entry)",
        { IsVirtual: true } => $"{_dev.Path} {name} (virtual interface: no device in sysfs)",
        _ => $"{_dev.Path} {name}",
    };

    private InterfaceFacts? FindFacts(ReadOnlySpan<byte> name)
    {
        foreach (InterfaceFacts facts in _interfaces)
        {
            if (name.SequenceEqual(facts.NameUtf8))
            {
                return facts;
            }
        }

        return null;
    }

    /// <summary>
    /// Lists <c>/sys/class/net</c>: per interface whether it is virtual (no <c>device</c> link to
    /// hardware), its ARPHRD type (772 is loopback) and its ifindex (a new one means the interface
    /// was removed and added again). Runs at construction, every <see cref="RediscoverInterval"/>
    /// and when the default route moves to an interface not seen yet.
    /// </summary>
    private void Discover()
    {
        _discoveredAt = _timeProvider.GetTimestamp();
        var found = new List<InterfaceFacts>();
        try
        {
            foreach (string directory in Directory.EnumerateDirectories(_sysClassNet))
            {
                string name = Path.GetFileName(directory);
                found.Add(new InterfaceFacts(
                    Encoding.UTF8.GetBytes(name),
                    IsVirtual: !Directory.Exists(Path.Combine(directory, "device")),
                    Type: ReadSysfsInt(Path.Combine(directory, "type")),
                    IfIndex: ReadSysfsInt(Path.Combine(directory, "ifindex"))));
            }
        }
        catch (DirectoryNotFoundException)
        {
            Fail("missing", $"{_sysClassNet} does not exist; interfaces cannot be told physical, virtual or loopback");
        }
        catch (UnauthorizedAccessException)
        {
            Fail("access-denied", $"{_sysClassNet}: permission denied");
        }
        catch (IOException ex)
        {
            Fail("io", $"{_sysClassNet}: {ex.Message}");
        }

        _interfaces = [.. found];

        // The default interface keeps its rate state only while it is the same kernel object.
        if (_default is { } current && FindFacts(current.NameUtf8) is var facts && (facts?.IfIndex ?? -1) != current.IfIndex)
        {
            current.IfIndex = facts?.IfIndex ?? -1;
            current.Recreated = current.Rates.HasSample;
            current.RateSource = RateSourceFor(current.Name, facts);
        }
    }

    private static int ReadSysfsInt(string path)
    {
        try
        {
            using var file = new KernelFile(path);
            return file.TryRead(out ReadOnlySpan<byte> content) && KernelText.TryParseInt64(content, out long value) && value is >= 0 and <= int.MaxValue
                ? (int)value
                : -1;
        }
        catch (ArgumentException)
        {
            return -1;
        }
    }

    private string Fail(string kind, string reason)
    {
        _failures.Report(ProbeName, kind, reason);
        return reason;
    }

    private enum DevLine
    {
        Found,
        Missing,
        Garbage,
        Unreadable,
    }

    /// <summary>What sysfs says about one interface; -1 where an attribute could not be read.</summary>
    private sealed record InterfaceFacts(byte[] NameUtf8, bool IsVirtual, int Type, int IfIndex)
    {
        public bool IsLoopback => Type == ArphrdLoopback;
    }

    /// <summary>The interface of the default route and its previous counter sample.</summary>
    private sealed class DefaultInterface(string name, byte[] nameUtf8, int ifIndex, string rateSource)
    {
        public string Name { get; } = name;

        public byte[] NameUtf8 { get; } = nameUtf8;

        public string PendingMeteredReason { get; } = $"waiting for NetworkManager's answer about {name}";

        public int IfIndex { get; set; } = ifIndex;

        public string RateSource { get; set; } = rateSource;

        public ByteCounterRates Rates { get; } = new();

        public bool Recreated { get; set; }
    }
}
