using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.NetworkManager;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Linux;

[SupportedOSPlatform("linux")]
public sealed class LinuxNetworkProbeTests : IDisposable
{
    // The kernel's header of /proc/net/route (net/ipv4/fib_trie.c, fib_route_seq_show), lines padded to 127 characters.
    private const string RouteHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";

    // The kernel's two header lines of /proc/net/dev (net/core/net-procfs.c).
    private const string DevHeader =
        "Inter-|   Receive                                                |  Transmit\n" +
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";

    private readonly string _root = Directory.CreateTempSubdirectory("costmodel-net-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly List<LinuxNetworkProbe> _probes = [];

    public LinuxNetworkProbeTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "proc", "net"));
        Directory.CreateDirectory(Path.Combine(_root, "sys", "class", "net"));
    }

    private string ProcNet => Path.Combine(_root, "proc", "net");

    public void Dispose()
    {
        foreach (LinuxNetworkProbe probe in _probes)
        {
            probe.Dispose();
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void Lowest_metric_default_route_wins()
    {
        AddInterface("wlan0", physical: true, ifIndex: 3);
        AddInterface("eth0", physical: true, ifIndex: 2);
        WriteRoutes(
            Route("wlan0", "00000000", "0101A8C0", "0003", 600, "00000000"),
            Route("wlan0", "0001A8C0", "00000000", "0001", 600, "00FFFFFF"),
            Route("eth0", "00000000", "010200C0", "0003", 100, "00000000"),
            Route("eth0", "000200C0", "00000000", "0001", 100, "00FFFFFF"));
        WriteDev(("eth0", 1000, 10), ("wlan0", 2000, 20));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Equal("eth0", network.DefaultInterface);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Default_route_on_a_loopback_typed_interface_is_skipped_whatever_its_name()
    {
        // "eth1" is loopback by its sysfs type (772), "lo" is a real device: names decide nothing.
        AddInterface("eth1", physical: false, ifIndex: 1, type: LinuxNetworkProbe.ArphrdLoopback);
        AddInterface("lo", physical: true, ifIndex: 2);
        WriteRoutes(
            Route("eth1", "00000000", "00000000", "0001", 0, "00000000"),
            Route("lo", "00000000", "010200C0", "0003", 50, "00000000"));
        WriteDev(("eth1", 1, 1), ("lo", 1000, 10));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Equal("lo", network.DefaultInterface);
    }

    [Fact]
    public void Reject_and_down_default_routes_are_not_the_default()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        AddInterface("wwan0", physical: true, ifIndex: 3);
        WriteRoutes(
            Route("*", "00000000", "00000000", "0201", 0, "00000000"),      // unreachable default, as the kernel prints it
            Route("eth0", "00000000", "00000000", "0201", 0, "00000000"),   // RTF_REJECT on a device
            Route("eth0", "00000000", "010200C0", "0002", 1, "00000000"),   // not RTF_UP
            Route("wwan0", "00000000", "0100000A", "0003", 700, "00000000"));
        WriteDev(("eth0", 1, 1), ("wwan0", 1, 1));

        Assert.Equal("wwan0", Collect(CreateProbe()).DefaultInterface);
    }

    [Fact]
    public void No_default_route_leaves_interface_null_and_every_reading_unknown_without_a_failure()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        WriteRoutes(Route("eth0", "000200C0", "00000000", "0001", 0, "00FFFFFF"));
        WriteIpv6Routes(
            Ipv6Route("fe800000000000000000000000000000", "40", "00000000000000000000000000000000", "00000100", "00000001", "eth0"),
            Ipv6Route("00000000000000000000000000000000", "00", "00000000000000000000000000000000", "ffffffff", "00200200", "lo"));
        WriteDev(("eth0", 1000, 10));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Null(network.DefaultInterface);
        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Equal(LinuxNetworkProbe.NoDefaultRouteReason, network.ReceiveBytesPerSecond.Reason);
        Assert.Equal(LinuxNetworkProbe.NoDefaultRouteReason, network.TransmitBytesPerSecond.Reason);
        Assert.Equal(LinuxNetworkProbe.NoDefaultRouteReason, network.Metered.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Kernel_without_IPv6_and_no_IPv4_default_is_no_default_route_not_a_failure()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        WriteRoutes(Route("eth0", "000200C0", "00000000", "0001", 0, "00FFFFFF"));
        WriteDev(("eth0", 1000, 10));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Null(network.DefaultInterface);
        Assert.Equal(LinuxNetworkProbe.NoDefaultRouteReason, network.ReceiveBytesPerSecond.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void IPv6_default_is_used_when_IPv4_has_none_and_its_lowest_metric_wins()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        AddInterface("wlan0", physical: true, ifIndex: 3);
        AddInterface("lo", physical: false, ifIndex: 1, type: LinuxNetworkProbe.ArphrdLoopback);
        WriteRoutes(Route("eth0", "000200C0", "00000000", "0001", 0, "00FFFFFF"));
        WriteIpv6Routes(
            Ipv6Route("fd000000000000000000000000000000", "40", "00000000000000000000000000000000", "00000100", "00000001", "eth0"),
            Ipv6Route("00000000000000000000000000000000", "00", "fe800000000000000000000000000001", "00000600", "00000003", "wlan0"),
            Ipv6Route("00000000000000000000000000000000", "00", "fd000000000000000000000000000001", "00000400", "00000003", "eth0"),
            Ipv6Route("00000000000000000000000000000000", "00", "00000000000000000000000000000000", "ffffffff", "00200200", "lo"));
        WriteDev(("eth0", 1000, 10), ("wlan0", 1000, 10));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Equal("eth0", network.DefaultInterface);
    }

    [Fact]
    public void Only_IPv6_with_no_IPv4_table_at_all_still_finds_the_default_and_reports_the_missing_table()
    {
        AddInterface("wg0", physical: false, ifIndex: 5);
        WriteIpv6Routes(Ipv6Route("00000000000000000000000000000000", "00", "00000000000000000000000000000000", "00000400", "00000001", "wg0"));
        WriteDev(("wg0", 1000, 10));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Equal("wg0", network.DefaultInterface);
        Assert.Contains(_failures.Reports, r => r.Kind == "missing" && r.Detail.Contains("route", StringComparison.Ordinal));
    }

    [Fact]
    public void Garbage_route_lines_are_skipped_and_reported_when_no_default_is_left()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        WriteRoutes(
            "eth0\tnot-hex\t010200C0\t0003\t0\t0\t0\t00000000",
            "eth0\t00000000\t010200C0");
        WriteDev(("eth0", 1000, 10));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Null(network.DefaultInterface);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage");
        Assert.Contains("not routes", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_route_line_beside_a_valid_default_does_not_hide_it()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        WriteRoutes(
            "eth0\t00000000\tzzzz\tzz",
            Route("eth0", "00000000", "010200C0", "0003", 0, "00000000"));
        WriteDev(("eth0", 1000, 10));

        Assert.Equal("eth0", Collect(CreateProbe()).DefaultInterface);
    }

    [Fact]
    public void Rates_come_from_the_default_interface_counters_over_the_time_between_passes()
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 500), ("wlan0", 9_000_000, 9_000_000));

        NetworkFactors first = Collect(probe);
        Assert.Equal(SignalQuality.Unknown, first.ReceiveBytesPerSecond.Quality);
        Assert.Equal(LinuxNetworkProbe.FirstSampleReason, first.ReceiveBytesPerSecond.Reason);
        Assert.Equal(LinuxNetworkProbe.FirstSampleReason, first.TransmitBytesPerSecond.Reason);

        _time.Advance(TimeSpan.FromSeconds(2));
        WriteDev(("eth0", 5_000, 1_500), ("wlan0", 99_000_000, 99_000_000));
        NetworkFactors second = Collect(probe);

        Assert.Equal(SignalQuality.Estimated, second.ReceiveBytesPerSecond.Quality);
        Assert.Equal(2_000, second.ReceiveBytesPerSecond.Value, 6);
        Assert.Equal(500, second.TransmitBytesPerSecond.Value, 6);
        Assert.Equal(_time.GetUtcNow(), second.ReceiveBytesPerSecond.ObservedAt);
        Assert.Contains("eth0", second.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Counter_going_backwards_is_unknown_for_that_pass_not_negative_and_then_recovers()
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000_000, 1_000_000));
        Collect(probe);

        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 100, 2_000_000));
        NetworkFactors reset = Collect(probe);
        Assert.Equal(SignalQuality.Unknown, reset.ReceiveBytesPerSecond.Quality);
        Assert.Equal(SignalQuality.Unknown, reset.TransmitBytesPerSecond.Quality);
        Assert.Contains("backwards", reset.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 1_100, 2_000_400));
        NetworkFactors after = Collect(probe);
        Assert.Equal(1_000, after.ReceiveBytesPerSecond.Value, 6);
        Assert.Equal(400, after.TransmitBytesPerSecond.Value, 6);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Interface_that_vanishes_and_returns_starts_over_instead_of_showing_a_spike()
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 1_000));
        Collect(probe);

        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("wlan0", 5, 5));
        NetworkFactors gone = Collect(probe);
        Assert.Equal(SignalQuality.Unknown, gone.ReceiveBytesPerSecond.Quality);
        Assert.Contains("not in", gone.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "missing");

        // Back with counters above the old ones: without the reset this would read as a 50 MB/s spike.
        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 50_000_000, 50_000_000));
        NetworkFactors back = Collect(probe);
        Assert.Equal(LinuxNetworkProbe.FirstSampleReason, back.ReceiveBytesPerSecond.Reason);

        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 50_000_300, 50_000_100));
        NetworkFactors steady = Collect(probe);
        Assert.Equal(300, steady.ReceiveBytesPerSecond.Value, 6);
        Assert.Equal(100, steady.TransmitBytesPerSecond.Value, 6);
    }

    [Fact]
    public void Interface_recreated_between_passes_is_caught_by_its_new_ifindex()
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 1_000));
        Collect(probe);

        // Removed and added again between two passes: a new ifindex, counters already past the old ones.
        File.WriteAllText(Path.Combine(_root, "sys", "class", "net", "eth0", "ifindex"), "9\n");
        _time.Advance(LinuxNetworkProbe.RediscoverInterval);
        WriteDev(("eth0", 4_000, 4_000));
        NetworkFactors recreated = Collect(probe);
        Assert.Equal(SignalQuality.Unknown, recreated.ReceiveBytesPerSecond.Quality);
        Assert.Contains("removed and added again", recreated.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 4_500, 4_200));
        Assert.Equal(500, Collect(probe).ReceiveBytesPerSecond.Value, 6);
    }

    [Theory]
    [InlineData("  eth0: 1000 20 0")]                                                      // truncated
    [InlineData("  eth0: 1000 20 0 0 0 0 0 0 abc 10 0 0 0 0 0 0")]                         // not a number
    [InlineData("  eth0: 1000 20 0 0 0 0 0 0 -5 10 0 0 0 0 0 0")]                          // negative
    [InlineData("  eth0: 1000 20 0 0 0 0 0 0 99999999999999999999999 10 0 0 0 0 0 0")]     // beyond 64 bits
    public void Garbage_or_truncated_counter_line_is_unknown_and_reported(string line)
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        File.WriteAllText(Path.Combine(ProcNet, "dev"), DevHeader + line + "\n");

        NetworkFactors network = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Contains("truncated or not numbers", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "garbage" && r.Detail.Contains("eth0", StringComparison.Ordinal));
    }

    [Fact]
    public void Garbage_line_of_another_interface_does_not_disturb_the_rate()
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        File.WriteAllText(Path.Combine(ProcNet, "dev"), DevHeader + "  junk: x y\n" + DevLine("eth0", 1_000, 1_000) + "garbage without colon\n");
        Collect(probe);

        _time.Advance(TimeSpan.FromSeconds(1));
        File.WriteAllText(Path.Combine(ProcNet, "dev"), DevHeader + "  junk: x y\n" + DevLine("eth0", 1_800, 1_200));
        NetworkFactors network = Collect(probe);

        Assert.Equal(800, network.ReceiveBytesPerSecond.Value, 6);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Missing_dev_file_is_unknown_and_reported_as_missing()
    {
        DefaultEth0();

        NetworkFactors network = Collect(CreateProbe());

        Assert.Equal("eth0", network.DefaultInterface);
        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Contains("cannot read the byte counters", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "missing");
    }

    [Fact]
    public void No_time_between_passes_gives_no_rate_and_keeps_the_older_sample()
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 1_000));
        Collect(probe);

        WriteDev(("eth0", 2_000, 2_000));
        Assert.Equal(LinuxNetworkProbe.NoTimeElapsedReason, Collect(probe).ReceiveBytesPerSecond.Reason);

        _time.Advance(TimeSpan.FromSeconds(4));
        WriteDev(("eth0", 5_000, 3_000));
        Assert.Equal(1_000, Collect(probe).ReceiveBytesPerSecond.Value, 6);
    }

    [Fact]
    public void Absurd_counter_jump_is_unknown_and_reported_out_of_range()
    {
        DefaultEth0();
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 1_000));
        Collect(probe);

        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 5_000_000_000_000, 1_000));
        NetworkFactors network = Collect(probe);

        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Contains(_failures.Reports, r => r.Kind == "out-of-range");
    }

    [Fact]
    public void Virtual_or_physical_comes_from_sysfs_device_link_not_the_name()
    {
        // "eth0" without a device link is virtual (a veth in a container looks exactly like this);
        // "tun0" with one is hardware. The rate source says which.
        AddInterface("eth0", physical: false, ifIndex: 2);
        AddInterface("tun0", physical: true, ifIndex: 3);
        WriteRoutes(Route("eth0", "00000000", "010200C0", "0003", 0, "00000000"));
        WriteDev(("eth0", 1_000, 1_000), ("tun0", 1_000, 1_000));
        LinuxNetworkProbe probe = CreateProbe();
        Collect(probe);
        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 2_000, 2_000), ("tun0", 2_000, 2_000));
        NetworkFactors viaVirtual = Collect(probe);

        WriteRoutes(Route("tun0", "00000000", "010200C0", "0003", 0, "00000000"));
        _time.Advance(Cadence.RouteInterval);
        Collect(probe);
        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 3_000, 3_000), ("tun0", 3_000, 3_000));
        NetworkFactors viaPhysical = Collect(probe);

        Assert.Equal("eth0", viaVirtual.DefaultInterface);
        Assert.Contains("virtual interface", viaVirtual.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
        Assert.Equal("tun0", viaPhysical.DefaultInterface);
        Assert.DoesNotContain("virtual", viaPhysical.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
        Assert.Equal(1_000, viaPhysical.ReceiveBytesPerSecond.Value, 6);
    }

    [Fact]
    public void Switching_default_interface_restarts_the_rate_instead_of_mixing_counters()
    {
        DefaultEth0();
        AddInterface("wlan0", physical: true, ifIndex: 3);
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 1_000), ("wlan0", 9_000_000, 9_000_000));
        Collect(probe);

        _time.Advance(Cadence.RouteInterval);
        WriteRoutes(Route("wlan0", "00000000", "0101A8C0", "0003", 600, "00000000"));
        WriteDev(("eth0", 2_000, 2_000), ("wlan0", 9_000_500, 9_000_500));
        NetworkFactors switched = Collect(probe);

        Assert.Equal("wlan0", switched.DefaultInterface);
        Assert.Equal(LinuxNetworkProbe.FirstSampleReason, switched.ReceiveBytesPerSecond.Reason);
    }

    [Fact]
    public void Bandwidth_is_left_to_the_scorer_estimator()
    {
        DefaultEth0();
        WriteDev(("eth0", 1_000, 1_000));

        NetworkFactors network = Collect(CreateProbe());

        Assert.Equal(SignalQuality.Unknown, network.BandwidthBitsPerSecond.Quality);
        Assert.Equal(LinuxNetworkProbe.NoBandwidthReason, network.BandwidthBitsPerSecond.Reason);
        Assert.Equal(0, network.BandwidthSampleCount);
    }

    [Fact]
    public void Metered_is_unknown_with_the_setting_named_when_NetworkManager_is_disabled()
    {
        DefaultEth0();
        WriteDev(("eth0", 1_000, 1_000));
        LinuxNetworkProbe probe = CreateProbe();

        NetworkFactors network = Collect(probe);

        Assert.Null(probe.MeteredMonitor);
        Assert.Equal(SignalQuality.Unknown, network.Metered.Quality);
        Assert.Equal(LinuxNetworkProbe.NetworkManagerDisabledReason, network.Metered.Reason);
    }

    [Fact]
    public void Missing_sysfs_is_reported_but_routes_and_rates_still_work()
    {
        Directory.Delete(Path.Combine(_root, "sys"), recursive: true);
        WriteRoutes(Route("eth0", "00000000", "010200C0", "0003", 0, "00000000"));
        WriteDev(("eth0", 1_000, 1_000));
        LinuxNetworkProbe probe = CreateProbe();
        Collect(probe);
        _time.Advance(TimeSpan.FromSeconds(1));
        WriteDev(("eth0", 1_250, 1_000));

        NetworkFactors network = Collect(probe);

        Assert.Equal("eth0", network.DefaultInterface);
        Assert.Equal(250, network.ReceiveBytesPerSecond.Value, 6);
        Assert.Contains("no sysfs entry", network.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "missing" && r.Detail.Contains("class", StringComparison.Ordinal));
    }

    [Fact]
    public void Route_table_is_read_at_most_every_route_interval_while_counters_are_read_every_pass()
    {
        DefaultEth0();
        AddInterface("wlan0", physical: true, ifIndex: 3);
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 1_000), ("wlan0", 5_000, 5_000));
        Collect(probe);

        WriteRoutes(Route("wlan0", "00000000", "0101A8C0", "0003", 600, "00000000"));
        WriteDev(("eth0", 3_400, 1_200), ("wlan0", 5_000, 5_000)); // 2 400 bytes in 4.8 s
        _time.Advance(Cadence.RouteInterval - TimeSpan.FromMilliseconds(200));
        NetworkFactors within = Collect(probe);
        Assert.Equal("eth0", within.DefaultInterface);
        Assert.Equal(500, within.ReceiveBytesPerSecond.Value, 6);

        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal("wlan0", Collect(probe).DefaultInterface);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void No_default_route_is_served_from_the_last_read_with_its_time_until_the_interval_passes()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        WriteRoutes(Route("eth0", "000200C0", "00000000", "0001", 0, "00FFFFFF"));
        WriteDev(("eth0", 1000, 10));
        LinuxNetworkProbe probe = CreateProbe();
        DateTimeOffset readAt = _time.GetUtcNow();
        NetworkFactors first = Collect(probe);

        DefaultEth0();
        _time.Advance(Cadence.RouteInterval - TimeSpan.FromSeconds(1));
        NetworkFactors within = Collect(probe);
        Assert.Same(first, within);
        Assert.Null(within.DefaultInterface);
        Assert.Equal(readAt, within.ReceiveBytesPerSecond.ObservedAt);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("eth0", Collect(probe).DefaultInterface);
    }

    [Fact]
    public void A_default_interface_gone_from_net_dev_makes_the_next_pass_read_the_routes_again()
    {
        DefaultEth0();
        AddInterface("wlan0", physical: true, ifIndex: 3);
        LinuxNetworkProbe probe = CreateProbe();
        WriteDev(("eth0", 1_000, 1_000), ("wlan0", 5_000, 5_000));
        Collect(probe);

        // eth0 unplugged: its route and its counters go.
        WriteRoutes(Route("wlan0", "00000000", "0101A8C0", "0003", 600, "00000000"));
        WriteDev(("wlan0", 5_000, 5_000));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("not in", Collect(probe).ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("wlan0", Collect(probe).DefaultInterface);
    }

    [Fact]
    public void An_unreadable_route_table_is_read_again_on_the_next_pass()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        WriteDev(("eth0", 1000, 10));
        LinuxNetworkProbe probe = CreateProbe();
        Assert.Null(Collect(probe).DefaultInterface);
        Assert.Contains(_failures.Reports, r => r.Kind == "missing");

        DefaultEth0();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("eth0", Collect(probe).DefaultInterface);
    }

    [Fact]
    public void IPv6_routes_are_not_read_while_IPv4_has_a_default()
    {
        // An ipv6_route that cannot be read (a directory in its place) would be reported if it were read.
        Directory.CreateDirectory(Path.Combine(ProcNet, "ipv6_route"));
        DefaultEth0();
        WriteDev(("eth0", 1000, 10));
        LinuxNetworkProbe probe = CreateProbe();

        Assert.Equal("eth0", Collect(probe).DefaultInterface);
        Assert.Empty(_failures.Reports);

        WriteRoutes(Route("eth0", "000200C0", "00000000", "0001", 0, "00FFFFFF"));
        _time.Advance(Cadence.RouteInterval);
        Assert.Null(Collect(probe).DefaultInterface);
        Assert.Contains(_failures.Reports, r => r.Detail.Contains("IPv6", StringComparison.Ordinal));
    }

    [Fact]
    public void Container_registers_the_probe_under_its_name()
    {
        var services = new ServiceCollection();
        services.AddCostModel(_ => { }).AddPlatformProbes();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Contains(provider.GetServices<ISignalProbe>(), p => p is LinuxNetworkProbe { Name: LinuxNetworkProbe.ProbeName, Group: SignalGroup.Network });
    }

    [Fact]
    public async Task This_machine_finds_its_default_interface_and_measures_a_rate()
    {
        if (!File.Exists("/proc/net/route") || !Directory.Exists("/sys/class/net"))
        {
            Assert.Skip("needs Linux /proc/net and /sys/class/net");
        }

        string? expected = FirstDefaultInterfaceOf(File.ReadAllLines("/proc/net/route"));
        var probe = new LinuxNetworkProbe(
            Options.Create(new LinuxProbeOptions()), _failures, _time,
            new NetworkManagerOptions { BusAddress = NetworkManagerOptions.SystemBusAddress() });
        _probes.Add(probe);

        NetworkFactors first = Collect(probe);
        _time.Advance(TimeSpan.FromSeconds(1));
        NetworkFactors second = Collect(probe);
        await probe.MeteredMonitor!.RefreshAsync();
        NetworkFactors third = Collect(probe);

        Assert.Equal(expected, first.DefaultInterface);
        if (expected is not null)
        {
            Assert.True(second.ReceiveBytesPerSecond.HasValue, second.ReceiveBytesPerSecond.Reason);
            Assert.True(second.ReceiveBytesPerSecond.Value >= 0);
            Assert.True(second.TransmitBytesPerSecond.Value >= 0);
        }

        // With or without a system bus and NetworkManager, the answer is a value or a reason, never an exception.
        Assert.True(third.Metered.HasValue || !string.IsNullOrWhiteSpace(third.Metered.Reason));
    }

    // An independent reading of /proc/net/route for the real-machine test: lowest-metric 0.0.0.0/0 route.
    private static string? FirstDefaultInterfaceOf(string[] lines)
    {
        string? best = null;
        long bestMetric = long.MaxValue;
        foreach (string line in lines.Skip(1))
        {
            string[] f = line.Split('\t', StringSplitOptions.TrimEntries);
            if (f.Length >= 8 && f[1] == "00000000" && f[7] == "00000000"
                && (int.Parse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 0x0201) == 0x0001
                && long.Parse(f[6], CultureInfo.InvariantCulture) < bestMetric)
            {
                best = f[0];
                bestMetric = long.Parse(f[6], CultureInfo.InvariantCulture);
            }
        }

        return best;
    }

    private void DefaultEth0()
    {
        AddInterface("eth0", physical: true, ifIndex: 2);
        AddInterface("lo", physical: false, ifIndex: 1, type: LinuxNetworkProbe.ArphrdLoopback);
        WriteRoutes(
            Route("eth0", "00000000", "010200C0", "0003", 0, "00000000"),
            Route("eth0", "000200C0", "00000000", "0001", 0, "00FFFFFF"));
    }

    private LinuxNetworkProbe CreateProbe(bool useNetworkManager = false)
    {
        var probe = new LinuxNetworkProbe(
            Options.Create(new LinuxProbeOptions
            {
                ProcRoot = Path.Combine(_root, "proc"),
                SysRoot = Path.Combine(_root, "sys"),
                UseNetworkManager = useNetworkManager,
            }),
            _failures,
            _time,
            // Fixture tests leave NetworkManager off (NetworkManagerMeteredTests covers it); were it
            // on, this address has no bus, so nothing could reach a real NetworkManager.
            new NetworkManagerOptions { BusAddress = "unix:path=" + Path.Combine(_root, "no-bus") });
        _probes.Add(probe);
        return probe;
    }

    private NetworkFactors Collect(LinuxNetworkProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Network;
    }

    private void AddInterface(string name, bool physical, int ifIndex, int type = 1)
    {
        string dir = Path.Combine(_root, "sys", "class", "net", name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "type"), type.ToString(CultureInfo.InvariantCulture) + "\n");
        File.WriteAllText(Path.Combine(dir, "ifindex"), ifIndex.ToString(CultureInfo.InvariantCulture) + "\n");
        if (physical)
        {
            // In sysfs a symlink to the bus device (../../../0000:00:1f.6); a directory is enough here.
            Directory.CreateDirectory(Path.Combine(dir, "device"));
        }
    }

    private static string Route(string iface, string destination, string gateway, string flags, int metric, string mask) =>
        string.Create(CultureInfo.InvariantCulture, $"{iface}\t{destination}\t{gateway}\t{flags}\t0\t0\t{metric}\t{mask}\t0\t0\t0").PadRight(127);

    private void WriteRoutes(params string[] lines) =>
        File.WriteAllText(Path.Combine(ProcNet, "route"), RouteHeader.PadRight(127) + "\n" + string.Concat(lines.Select(l => l + "\n")));

    // "%pi6 %02x %pi6 %02x %pi6 %08x %08x %08x %08x %8s" (net/ipv6/route.c, ipv6_route_native_seq_show).
    private static string Ipv6Route(string destination, string prefixLength, string nextHop, string metric, string flags, string iface) =>
        $"{destination} {prefixLength} 00000000000000000000000000000000 00 {nextHop} {metric} 00000001 00000000 {flags} {iface,8}";

    private void WriteIpv6Routes(params string[] lines) =>
        File.WriteAllText(Path.Combine(ProcNet, "ipv6_route"), string.Concat(lines.Select(l => l + "\n")));

    // "%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu %7llu %4llu %4llu %4llu %5llu %7llu %10llu" (dev_seq_printf_stats).
    private static string DevLine(string iface, long rx, long tx) =>
        string.Create(CultureInfo.InvariantCulture, $"{iface,6}: {rx,7} {rx / 1000,7} {0,4} {0,4} {0,4} {0,5} {0,10} {0,9} {tx,8} {tx / 1000,7} {0,4} {0,4} {0,4} {0,5} {0,7} {0,10}\n");

    private void WriteDev(params (string Iface, long Rx, long Tx)[] interfaces) =>
        File.WriteAllText(Path.Combine(ProcNet, "dev"), DevHeader + string.Concat(interfaces.Select(i => DevLine(i.Iface, i.Rx, i.Tx))));
}
