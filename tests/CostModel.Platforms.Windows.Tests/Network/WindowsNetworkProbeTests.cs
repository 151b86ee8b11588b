using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Windows.Network;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Network;

public sealed class WindowsNetworkProbeTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeNetworkApi _api = new();
    private readonly FakeCostApi _cost = new();
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly WindowsNetworkProbe _probe;

    public WindowsNetworkProbeTests()
    {
        _api.Route(FakeNetworkApi.Row(7, "Ethernet", inOctets: 1_000, outOctets: 500));
        _probe = new WindowsNetworkProbe(_api, _cost, _failures, _time, isWine: false);
    }

    public void Dispose() => _probe.Dispose();

    [Fact]
    public void First_sample_names_the_alias_and_has_no_rate_yet()
    {
        NetworkFactors network = Collect();

        Assert.Equal("Ethernet", network.DefaultInterface);
        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Equal(WindowsNetworkProbe.FirstSampleReason, network.ReceiveBytesPerSecond.Reason);
        Assert.Equal(WindowsNetworkProbe.FirstSampleReason, network.TransmitBytesPerSecond.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Second_sample_gives_estimated_rates_from_the_octet_deltas_over_the_injected_clock()
    {
        Collect();
        _api.Counters(7, 1_000 + 4_000, 500 + 1_000);
        _time.Advance(TimeSpan.FromSeconds(2));

        NetworkFactors network = Collect();

        Assert.Equal(SignalQuality.Estimated, network.ReceiveBytesPerSecond.Quality);
        Assert.Equal(2_000, network.ReceiveBytesPerSecond.Value);
        Assert.Equal(500, network.TransmitBytesPerSecond.Value);
        Assert.Contains("GetIfEntry2", network.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
        Assert.Contains("Ethernet (ifIndex 7)", network.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow(), network.ReceiveBytesPerSecond.ObservedAt);
    }

    [Theory]
    [InlineData(900UL, 600UL)]
    [InlineData(2_000UL, 400UL)]
    [InlineData(0UL, 0UL)]
    public void Counters_that_go_backwards_give_unknown_never_a_negative_rate_and_the_next_pass_measures_again(ulong rx, ulong tx)
    {
        Collect();
        _api.Counters(7, rx, tx);
        _time.Advance(TimeSpan.FromSeconds(1));

        NetworkFactors reset = Collect();

        Assert.Equal(SignalQuality.Unknown, reset.ReceiveBytesPerSecond.Quality);
        Assert.Contains("went backwards", reset.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, reset.TransmitBytesPerSecond.Quality);
        Assert.Empty(_failures.Reports);

        _api.Counters(7, rx + 100, tx + 10);
        _time.Advance(TimeSpan.FromSeconds(1));
        NetworkFactors next = Collect();
        Assert.Equal(100, next.ReceiveBytesPerSecond.Value);
        Assert.Equal(10, next.TransmitBytesPerSecond.Value);
    }

    [Fact]
    public void A_counter_wrap_at_ulong_max_resets_the_rate_instead_of_a_huge_spike()
    {
        _api.Counters(7, ulong.MaxValue - 10, ulong.MaxValue - 10);
        Collect();
        _api.Counters(7, 5, 5);
        _time.Advance(TimeSpan.FromSeconds(1));

        NetworkFactors network = Collect();

        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Contains("went backwards", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_default_interface_starts_over_with_a_first_sample_and_its_own_name()
    {
        Collect();
        _api.Route(FakeNetworkApi.Row(12, "Wi-Fi", inOctets: 50, outOctets: 50, type: 71));
        _time.Advance(Cadence.RouteInterval);

        NetworkFactors network = Collect();

        Assert.Equal("Wi-Fi", network.DefaultInterface);
        Assert.Equal(WindowsNetworkProbe.FirstSampleReason, network.ReceiveBytesPerSecond.Reason);

        _api.Counters(12, 150, 70);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100, Collect().ReceiveBytesPerSecond.Value);
    }

    [Fact]
    public void The_same_index_with_a_new_luid_is_another_interface_and_its_counters_are_not_compared_with_the_old_ones()
    {
        Collect();
        // Removed and added again between two passes, under the same index, counters restarted higher by chance.
        _api.Set(FakeNetworkApi.Row(7, "Ethernet 2", inOctets: 9_000, outOctets: 9_000, luid: 0xABCDEF));
        _time.Advance(TimeSpan.FromSeconds(1));

        NetworkFactors network = Collect();

        Assert.Equal("Ethernet 2", network.DefaultInterface);
        Assert.Equal(WindowsNetworkProbe.FirstSampleReason, network.ReceiveBytesPerSecond.Reason);
    }

    [Fact]
    public void A_renamed_interface_keeps_its_samples_and_shows_the_new_alias()
    {
        Collect();
        MibIfRow2 renamed = FakeNetworkApi.Row(7, "LAN", inOctets: 1_100, outOctets: 600);
        _api.Set(renamed);
        _time.Advance(TimeSpan.FromSeconds(1));

        NetworkFactors network = Collect();

        Assert.Equal("LAN", network.DefaultInterface);
        Assert.Equal(100, network.ReceiveBytesPerSecond.Value);
        Assert.Contains("LAN (ifIndex 7)", network.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interface_that_vanishes_is_unknown_reported_missing_and_the_route_is_looked_up_on_the_next_pass()
    {
        Collect();
        int lookups = _api.RouteLookups;
        _api.EntryErrors[7] = 2;
        _time.Advance(TimeSpan.FromSeconds(1));

        NetworkFactors network = Collect();

        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Contains("error 2", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(["missing"], _failures.Kinds);

        _api.EntryErrors.Remove(7);
        _time.Advance(TimeSpan.FromSeconds(1));
        NetworkFactors back = Collect();
        Assert.True(_api.RouteLookups > lookups);
        Assert.Equal(WindowsNetworkProbe.FirstSampleReason, back.ReceiveBytesPerSecond.Reason);
    }

    [Fact]
    public void The_route_is_looked_up_once_per_route_interval_not_every_pass()
    {
        Collect();
        int lookups = _api.RouteLookups;
        for (int i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Collect();
        }

        Assert.Equal(lookups, _api.RouteLookups);
        _time.Advance(TimeSpan.FromSeconds(1));
        Collect();
        Assert.Equal(lookups + 1, _api.RouteLookups);
    }

    [Fact]
    public void Without_an_ipv4_route_the_ipv6_route_is_used()
    {
        _api.IPv4Error = FakeNetworkApi.ErrorNetworkUnreachable;
        _api.Set(FakeNetworkApi.Row(9, "Cellular", type: 243));
        _api.IPv6Error = 0;
        _api.IPv6Index = 9;

        Assert.Equal("Cellular", Collect().DefaultInterface);
    }

    [Fact]
    public void Without_any_route_every_reading_is_unknown_with_both_errors_and_nothing_is_reported()
    {
        _api.IPv4Error = FakeNetworkApi.ErrorNetworkUnreachable;

        NetworkFactors network = Collect();

        Assert.Null(network.DefaultInterface);
        Assert.Equal("no default route (GetBestInterfaceEx: IPv4 error 1231, IPv6 error 1231)", network.ReceiveBytesPerSecond.Reason);
        Assert.Equal(SignalQuality.Unknown, network.TransmitBytesPerSecond.Quality);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_unexpected_route_lookup_error_is_reported_and_retried_on_the_next_pass()
    {
        _api.IPv4Error = 5; // ERROR_ACCESS_DENIED
        _api.IPv6Error = 5;

        Assert.Null(Collect().DefaultInterface);
        Assert.Equal(["io"], _failures.Kinds);

        _api.IPv4Error = 0;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("Ethernet", Collect().DefaultInterface);
    }

    [Fact]
    public void A_route_through_the_loopback_interface_is_no_default_route()
    {
        _api.Route(FakeNetworkApi.Row(1, "Loopback Pseudo-Interface 1", type: MibIfRow2.TypeSoftwareLoopback));

        NetworkFactors network = Collect();

        Assert.Null(network.DefaultInterface);
        Assert.Equal(WindowsNetworkProbe.LoopbackRouteReason, network.ReceiveBytesPerSecond.Reason);
    }

    [Fact]
    public void No_time_passed_between_two_passes_gives_unknown_and_keeps_the_older_sample()
    {
        Collect();
        _api.Counters(7, 2_000, 500);
        Assert.Equal(WindowsNetworkProbe.NoTimeElapsedReason, Collect().ReceiveBytesPerSecond.Reason);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1_000, Collect().ReceiveBytesPerSecond.Value);
    }

    [Fact]
    public void A_rate_faster_than_8_terabits_is_a_glitch_reported_out_of_range()
    {
        Collect();
        _api.Counters(7, 1_000 + 2_000_000_000_000, 500);
        _time.Advance(TimeSpan.FromSeconds(1));

        NetworkFactors network = Collect();

        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Equal([Plausible.OutOfRangeKind], _failures.Kinds);
    }

    [Fact]
    public void A_plausible_link_speed_is_named_as_a_ceiling_but_bandwidth_stays_unknown_for_the_estimator()
    {
        NetworkFactors network = Collect();

        Assert.Equal(SignalQuality.Unknown, network.BandwidthBitsPerSecond.Quality);
        Assert.Equal(0, network.BandwidthSampleCount);
        Assert.StartsWith(WindowsNetworkProbe.NoBandwidthReason, network.BandwidthBitsPerSecond.Reason, StringComparison.Ordinal);
        Assert.Contains("receive 1000000000 bits/s", network.BandwidthBitsPerSecond.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(ulong.MaxValue)]
    public void A_link_speed_of_zero_or_ulong_max_is_not_reported_by_the_driver_and_is_no_failure(ulong speed)
    {
        _api.Route(FakeNetworkApi.Row(7, "Ethernet", linkSpeed: speed));

        NetworkFactors network = Collect();

        Assert.Equal(SignalQuality.Unknown, network.BandwidthBitsPerSecond.Quality);
        Assert.Contains($"receive not reported ({speed})", network.BandwidthBitsPerSecond.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_absurd_link_speed_is_reported_out_of_range_once_not_every_pass()
    {
        _api.Route(FakeNetworkApi.Row(7, "Ethernet", linkSpeed: 100_000_000_000_000));

        NetworkFactors network = Collect();
        _time.Advance(TimeSpan.FromSeconds(1));
        Collect();

        Assert.Contains("receive implausible (100000000000000)", network.BandwidthBitsPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal([Plausible.OutOfRangeKind, Plausible.OutOfRangeKind], _failures.Kinds); // receive and transmit, once
    }

    [Theory]
    [InlineData("Ethernet", "Ethernet")]
    [InlineData("  Wi-Fi 2 ", "Wi-Fi 2")]
    [InlineData("", "interface 7")]
    [InlineData("bad\u0001name", "interface 7")]
    [InlineData("bad\u007Fname", "interface 7")]
    [InlineData("Wi-F\u0080\u8080", "interface 7")] // a C1 control (U+0080..U+009F): the model refuses every control character
    [InlineData("bad\u009Fname", "interface 7")]
    [InlineData("caf\u00E9", "caf\u00E9")]
    public void The_shown_name_is_the_trimmed_alias_or_the_index_when_the_alias_is_unusable(string alias, string expected) =>
        Assert.Equal(expected, WindowsNetworkProbe.DisplayName(alias, 7));

    [Fact]
    public void An_alias_with_a_C1_control_character_is_shown_by_its_index_and_the_probe_does_not_throw()
    {
        // Found by the win fuzz target: "Wi-F" then U+0080 passed the C0 check, and NetworkFactors refused it (ArgumentException).
        _api.Route(FakeNetworkApi.Row(7, "Wi-F\u0080\u8080"));

        NetworkFactors network = Collect();

        Assert.Equal("interface 7", network.DefaultInterface);
    }

    [Fact]
    public void A_long_alias_is_cut_to_the_model_limit()
    {
        string name = WindowsNetworkProbe.DisplayName(new string('a', 256), 7);

        Assert.Equal(NetworkFactors.MaxInterfaceNameLength, name.Length);
    }

    [Fact]
    public void A_long_alias_is_never_cut_inside_a_surrogate_pair()
    {
        // 63 letters then an emoji (a pair at 63 and 64): cut at 64 it would end in half a character.
        string name = WindowsNetworkProbe.DisplayName(new string('a', 63) + "\U0001F600 more", 7);

        Assert.Equal(new string('a', 63), name);
    }

    [Fact]
    public void Metered_comes_from_the_cost_cache_and_the_collection_path_never_calls_com()
    {
        _cost.Cost = NetworkCost.Fixed;
        _time.Advance(WindowsMeteredMonitor.RefreshInterval);
        Collect();
        int calls = _cost.Calls;

        NetworkFactors network = Collect();
        Collect();

        Assert.Equal(calls, _cost.Calls);
        Assert.Equal(SignalQuality.Measured, network.Metered.Quality);
        Assert.True(network.Metered.Value);
        Assert.Contains("FIXED (0x2)", network.Metered.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_change_of_default_interface_asks_for_the_cost_again_at_once()
    {
        Collect();
        int calls = _cost.Calls;
        _cost.Cost = NetworkCost.Variable;
        _api.Route(FakeNetworkApi.Row(12, "Cellular", type: 243));
        _time.Advance(Cadence.RouteInterval);

        NetworkFactors network = Collect();

        Assert.Equal(calls + 1, _cost.Calls);
        Assert.True(network.Metered.Value);
    }

    [Fact]
    public void A_pass_allocates_little_more_than_the_network_record()
    {
        Collect();
        _time.Advance(TimeSpan.FromSeconds(1));
        Collect();
        var snapshot = new SnapshotBuilder(_time);
        _time.Advance(TimeSpan.FromSeconds(1));

        long before = GC.GetAllocatedBytesForCurrentThread();
        _probe.Collect(snapshot);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(SignalQuality.Estimated, snapshot.Network.ReceiveBytesPerSecond.Quality);
        Assert.InRange(allocated, 1, 512);
    }

    [Theory]
    [InlineData(null, "Ethernet", true, "CostModel:Collection:MeteredInterfaces")]
    [InlineData("false", "Ethernet", false, "CostModel:Collection:Metered")]
    [InlineData("true", "Wi-Fi", true, "CostModel:Collection:Metered")]
    public void The_operator_override_wins_over_the_windows_cost(string? global, string overriddenInterface, bool expected, string source)
    {
        _cost.Cost = NetworkCost.Unrestricted;
        var settings = new Dictionary<string, string?> { ["CostModel:NodeId"] = "win", [$"CostModel:Collection:MeteredInterfaces:{overriddenInterface}"] = "true" };
        if (global is not null)
        {
            settings["CostModel:Collection:Metered"] = global;
        }

        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddCostModel(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("CostModel"));
        services.AddSingleton<ISignalProbe>(_probe);
        using ServiceProvider provider = services.BuildServiceProvider();

        NodeCostFactors snapshot = provider.GetRequiredService<ICostCollector>().Collect();

        Assert.Equal(SignalQuality.Overridden, snapshot.Network.Metered.Quality);
        Assert.Equal(expected, snapshot.Network.Metered.Value);
        Assert.Equal(source, snapshot.Network.Metered.Source);
    }

    [Fact]
    public void Without_an_override_the_windows_cost_is_what_the_snapshot_carries()
    {
        _cost.Cost = NetworkCost.Unrestricted | NetworkCost.Roaming;
        _time.Advance(WindowsMeteredMonitor.RefreshInterval);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddCostModel(o => o.NodeId = "win");
        services.AddSingleton<ISignalProbe>(_probe);
        using ServiceProvider provider = services.BuildServiceProvider();

        NodeCostFactors snapshot = provider.GetRequiredService<ICostCollector>().Collect();

        Assert.Equal(SignalQuality.Measured, snapshot.Network.Metered.Quality);
        Assert.True(snapshot.Network.Metered.Value);
    }

    private NetworkFactors Collect()
    {
        var snapshot = new SnapshotBuilder(_time);
        _probe.Collect(snapshot);
        return snapshot.Network;
    }
}
