using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Network;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.MacOS.Network;

/// <summary>
/// The macOS network logic on any OS: dynamic-store values recorded on real Macs
/// (Fixtures/network/README.md), interface lists built from the header layouts, a fake path
/// monitor, and virtual time.
/// </summary>
public sealed class MacNetworkReaderTests : IDisposable
{
    private const uint Utun4 = 17;
    private const uint En0 = 6;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly FakeNetworkSource _source = new();
    private readonly FakePathMonitor _paths = new();

    public MacNetworkReaderTests()
    {
        _source.Store[PrimaryInterface.IPv4Key] = PropertyList.LoadDictionary("network/scutil-global-ipv4-utun4-surge.plist");
        _source.Indexes["utun4"] = Utun4;
        _source.Indexes["en0"] = En0;
        SetCounters(Utun4, 1_000_000, 200_000);
    }

    public void Dispose() => _paths.Dispose();

    [Fact]
    public void The_first_pass_names_the_recorded_primary_interface_and_waits_for_a_second_sample()
    {
        NetworkFactors network = Collect(Reader());

        Assert.Equal("utun4", network.DefaultInterface);
        Assert.Equal(MacNetworkReader.FirstSampleReason, network.ReceiveBytesPerSecond.Reason);
        Assert.Equal(MacNetworkReader.FirstSampleReason, network.TransmitBytesPerSecond.Reason);
        Assert.Equal(MacNetworkReader.NoBandwidthReason, network.BandwidthBitsPerSecond.Reason);
        Assert.Equal(0, network.BandwidthSampleCount);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Rates_are_the_counter_deltas_over_the_injected_time_and_estimated()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);
        _time.Advance(TimeSpan.FromSeconds(2));
        SetCounters(Utun4, 1_000_000 + 5_000_000, 200_000 + 1_000);

        NetworkFactors network = Collect(reader);

        Assert.Equal(SignalQuality.Estimated, network.ReceiveBytesPerSecond.Quality);
        Assert.Equal(2_500_000, network.ReceiveBytesPerSecond.Value);
        Assert.Equal(500, network.TransmitBytesPerSecond.Value);
        Assert.Equal(_time.GetUtcNow(), network.ReceiveBytesPerSecond.ObservedAt);
        Assert.Equal("sysctl NET_RT_IFLIST2 utun4 (index 17, link speed not reported)", network.ReceiveBytesPerSecond.Source);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Counters_past_4_gib_give_a_rate_where_32_bit_counters_would_have_wrapped()
    {
        MacNetworkReader reader = Reader();
        SetCounters(Utun4, 4_294_000_000, 0);
        Collect(reader);
        _time.Advance(TimeSpan.FromSeconds(1));
        SetCounters(Utun4, 4_295_000_000, 0); // crosses 2^32 = 4,294,967,296

        Assert.Equal(1_000_000, Collect(reader).ReceiveBytesPerSecond.Value);
    }

    [Fact]
    public void Without_ipv4_the_ipv6_primary_interface_is_used()
    {
        _source.Store.Clear();
        _source.Store[PrimaryInterface.IPv6Key] = PropertyList.LoadDictionary("network/scutil-global-ipv6-anyconnect-utun0.plist");
        _source.Indexes["utun0"] = 12;
        SetCounters(12, 1, 1);

        Assert.Equal("utun0", Collect(Reader()).DefaultInterface);
    }

    [Fact]
    public void No_primary_service_leaves_the_interface_null_and_every_reading_unknown_without_a_failure()
    {
        _source.Store.Clear();

        NetworkFactors network = Collect(Reader());

        Assert.Null(network.DefaultInterface);
        Assert.Equal(MacNetworkReader.NoPrimaryReason, network.ReceiveBytesPerSecond.Reason);
        Assert.Equal(MacNetworkReader.NoPrimaryReason, network.TransmitBytesPerSecond.Reason);
        Assert.Equal(MacNetworkReader.NoPrimaryReason, network.Metered.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_garbage_store_value_is_reported_and_read_again_on_the_next_pass()
    {
        _source.Store[PrimaryInterface.IPv4Key] = PropertyList.LoadDictionary("network/synthetic-global-ipv4-interface-not-a-string.plist");
        MacNetworkReader reader = Reader();

        NetworkFactors network = Collect(reader);
        int reads = _source.StoreReads;
        Collect(reader);

        Assert.Null(network.DefaultInterface);
        Assert.Contains("PrimaryInterface = 0", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(["garbage", "garbage"], _failures.Kinds);
        Assert.True(_source.StoreReads > reads); // a failed read is retried at once, not after the cadence
    }

    [Fact]
    public void A_garbage_ipv4_value_falls_back_to_a_good_ipv6_one()
    {
        _source.Store[PrimaryInterface.IPv4Key] = PropertyList.LoadDictionary("network/synthetic-global-ipv4-interface-name-too-long.plist");
        _source.Store[PrimaryInterface.IPv6Key] = PropertyList.LoadDictionary("network/scutil-global-ipv6-anyconnect-utun0.plist");
        _source.Indexes["utun0"] = 12;
        SetCounters(12, 1, 1);

        Assert.Equal("utun0", Collect(Reader()).DefaultInterface);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void A_store_that_cannot_be_read_is_an_io_failure_with_the_reason()
    {
        _source.StoreFailure = new IOException("SCDynamicStoreCopyValue failed: SCError 1003");

        NetworkFactors network = Collect(Reader());

        Assert.Null(network.DefaultInterface);
        Assert.Contains("SCError 1003", network.Metered.Reason, StringComparison.Ordinal);
        Assert.Equal("io", _failures.Kinds.Last());
    }

    [Fact]
    public void A_store_value_that_cannot_be_converted_is_garbage()
    {
        _source.StoreFailure = new InvalidDataException("expected a CFDictionary, got type id 7");

        NetworkFactors network = Collect(Reader());

        Assert.Null(network.DefaultInterface);
        Assert.Contains("State:/Network/Global/IPv6: expected a CFDictionary", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(["garbage"], _failures.Kinds);
    }

    [Fact]
    public void The_store_is_read_every_five_seconds_not_every_pass()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);
        int reads = _source.StoreReads;

        _time.Advance(TimeSpan.FromSeconds(4));
        Collect(reader);
        Assert.Equal(reads, _source.StoreReads);

        _time.Advance(TimeSpan.FromSeconds(1));
        Collect(reader);
        Assert.True(_source.StoreReads > reads);
    }

    [Fact]
    public void A_primary_interface_without_an_index_is_missing()
    {
        _source.Indexes.Remove("utun4");

        NetworkFactors network = Collect(Reader());

        Assert.Null(network.DefaultInterface);
        Assert.Contains("if_nametoindex knows no such interface", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(["missing"], _failures.Kinds);
    }

    [Fact]
    public void An_interface_that_leaves_the_list_starts_over_when_it_returns()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);
        _source.List = new RouteMessageBuffer().Interface((ushort)En0, 1, 1).ToArray();
        _time.Advance(TimeSpan.FromSeconds(1));

        NetworkFactors gone = Collect(reader);
        Assert.Contains("not in the sysctl NET_RT_IFLIST2 interface list", gone.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(["missing"], _failures.Kinds);

        SetCounters(Utun4, 5, 5); // back, with counters restarted: no spike, no negative
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(MacNetworkReader.FirstSampleReason, Collect(reader).ReceiveBytesPerSecond.Reason);
    }

    [Fact]
    public void Counters_going_backwards_give_unknown_for_that_sample_then_rates_again()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);
        _time.Advance(TimeSpan.FromSeconds(1));
        SetCounters(Utun4, 10, 10);

        NetworkFactors reset = Collect(reader);
        Assert.Equal(SignalQuality.Unknown, reset.ReceiveBytesPerSecond.Quality);
        Assert.Contains("went backwards", reset.TransmitBytesPerSecond.Reason, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(1));
        SetCounters(Utun4, 110, 60);
        NetworkFactors again = Collect(reader);
        Assert.Equal(100, again.ReceiveBytesPerSecond.Value);
        Assert.Equal(50, again.TransmitBytesPerSecond.Value);
        Assert.Empty(_failures.Reports); // a reset is a fact, not a failure
    }

    [Fact]
    public void A_rate_faster_than_any_adapter_is_out_of_range()
    {
        MacNetworkReader reader = Reader();
        SetCounters(Utun4, 0, 0);
        Collect(reader);
        _time.Advance(TimeSpan.FromSeconds(1));
        SetCounters(Utun4, ulong.MaxValue, 0);

        NetworkFactors network = Collect(reader);

        Assert.Equal(SignalQuality.Unknown, network.ReceiveBytesPerSecond.Quality);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void No_time_between_passes_keeps_the_older_sample()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);
        SetCounters(Utun4, 1_000_100, 200_100);

        Assert.Equal(MacNetworkReader.NoTimeElapsedReason, Collect(reader).ReceiveBytesPerSecond.Reason);

        _time.Advance(TimeSpan.FromSeconds(2));
        SetCounters(Utun4, 1_000_200, 200_200);
        Assert.Equal(100, Collect(reader).ReceiveBytesPerSecond.Value); // 200 bytes over the 2 s since the first sample
    }

    [Fact]
    public void A_new_primary_interface_starts_its_rate_over()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);
        _source.Store[PrimaryInterface.IPv4Key] = new Dictionary<string, object> { ["PrimaryInterface"] = "en0" }; // the VPN went down
        SetCounters(En0, 9_000_000, 9_000_000);
        _time.Advance(TimeSpan.FromSeconds(5));

        NetworkFactors network = Collect(reader);

        Assert.Equal("en0", network.DefaultInterface);
        Assert.Equal(MacNetworkReader.FirstSampleReason, network.ReceiveBytesPerSecond.Reason);
    }

    [Fact]
    public void The_same_name_on_a_new_index_is_a_new_interface()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);
        _source.Indexes["utun4"] = 18; // torn down and created again
        SetCounters(18, 2_000_000, 300_000);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(MacNetworkReader.FirstSampleReason, Collect(reader).ReceiveBytesPerSecond.Reason);
    }

    [Fact]
    public void A_malformed_interface_list_is_garbage_with_what_is_wrong()
    {
        _source.List = new RouteMessageBuffer().Raw(0, 0, 5, 0x12).ToArray();

        NetworkFactors network = Collect(Reader());

        Assert.Contains("has length 0", network.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(["garbage"], _failures.Kinds);
    }

    [Fact]
    public void A_failing_sysctl_is_reported_with_its_errno()
    {
        _source.Errno = 1;

        NetworkFactors network = Collect(Reader());

        Assert.Equal("utun4", network.DefaultInterface);
        Assert.Contains("errno 1", network.TransmitBytesPerSecond.Reason, StringComparison.Ordinal);
        Assert.Equal(["io"], _failures.Kinds);
    }

    [Theory]
    [InlineData(1_000_000_000ul, "link 1 Gbit/s")]
    [InlineData(866_700_000ul, "link 866.7 Mbit/s")]
    [InlineData(10_000_000_000ul, "link 10 Gbit/s")]
    public void The_link_speed_comes_from_ifi_baudrate_and_shows_in_the_rates_source(ulong baud, string text)
    {
        SetCounters(Utun4, 1, 1, baud);
        MacNetworkReader reader = Reader();

        NetworkFactors network = Collect(reader);
        _time.Advance(TimeSpan.FromSeconds(1));
        network = Collect(reader);

        Assert.Equal(SignalQuality.Measured, reader.LinkBitsPerSecond.Quality);
        Assert.Equal(baud, reader.LinkBitsPerSecond.Value);
        Assert.Contains(text, network.ReceiveBytesPerSecond.Source, StringComparison.Ordinal);
        Assert.Equal(MacNetworkReader.NoBandwidthReason, network.BandwidthBitsPerSecond.Reason); // a link speed is not available bandwidth
    }

    [Fact]
    public void A_baudrate_of_zero_is_unknown_link_speed_and_no_failure()
    {
        MacNetworkReader reader = Reader();
        Collect(reader);

        Assert.Equal(MacNetworkReader.NoLinkSpeedReason, reader.LinkBitsPerSecond.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_implausible_baudrate_is_reported_once_not_every_pass()
    {
        SetCounters(Utun4, 1, 1, ulong.MaxValue);
        MacNetworkReader reader = Reader();

        Collect(reader);
        _time.Advance(TimeSpan.FromSeconds(1));
        Collect(reader);

        Assert.Equal(SignalQuality.Unknown, reader.LinkBitsPerSecond.Quality);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void Metered_is_unknown_until_the_first_path_update_then_follows_it()
    {
        MacNetworkReader reader = Reader();
        Assert.Equal(PathMetered.NoUpdateReason, Collect(reader).Metered.Reason);

        _paths.Latest = new PathUpdate(PathMetered.StatusSatisfied, IsExpensive: true, IsConstrained: false, _time.GetUtcNow());
        Reading<bool> tethered = Collect(reader).Metered;
        Assert.Equal(SignalQuality.Measured, tethered.Quality);
        Assert.True(tethered.Value);

        _paths.Latest = new PathUpdate(PathMetered.StatusSatisfied, IsExpensive: false, IsConstrained: false, _time.GetUtcNow());
        Assert.False(Collect(reader).Metered.Value);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_undefined_path_status_is_reported_once_per_update()
    {
        MacNetworkReader reader = Reader();
        _paths.Latest = new PathUpdate(7, true, false, _time.GetUtcNow());

        Collect(reader);
        Collect(reader);

        Assert.Equal(SignalQuality.Unknown, Collect(reader).Metered.Quality);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void Without_a_path_monitor_metered_is_unknown_with_why()
    {
        var reader = new MacNetworkReader(_source, null, "the Network.framework path monitor could not start: EntryPointNotFoundException", _failures);

        Assert.Contains("EntryPointNotFoundException", Collect(reader).Metered.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_operator_override_wins_over_the_path_monitor()
    {
        _paths.Latest = new PathUpdate(PathMetered.StatusSatisfied, IsExpensive: true, IsConstrained: true, _time.GetUtcNow());
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddMetrics();
        services.AddCostModel(o => o.NodeId = "mac-a")
            .Configure<CollectionOptions>(o => o.MeteredInterfaces["utun4"] = false)
            .AddProbe(new ReaderProbe(Reader()));
        using ServiceProvider provider = services.BuildServiceProvider();

        Reading<bool> metered = provider.GetRequiredService<ICostCollector>().Collect().Network.Metered;

        Assert.Equal(SignalQuality.Overridden, metered.Quality);
        Assert.False(metered.Value);
        Assert.Equal("CostModel:Collection:MeteredInterfaces", metered.Source);
    }

    private MacNetworkReader Reader() => new(_source, _paths, null, _failures);

    private NetworkFactors Collect(MacNetworkReader reader)
    {
        var snapshot = new SnapshotBuilder(_time);
        reader.Collect(snapshot);
        return snapshot.Network;
    }

    /// <summary>A list with lo0, the interface's message and addresses, and another interface.</summary>
    private void SetCounters(uint index, ulong receive, ulong transmit, ulong baud = 0) =>
        _source.List = new RouteMessageBuffer()
            .Interface(1, 5_000, 5_000).Address(1)
            .Interface((ushort)index, receive, transmit, baud).Address((ushort)index)
            .Interface(30, 77, 77)
            .ToArray();

    /// <summary>The reader as a probe, as <see cref="MacNetworkProbe"/> wraps it on a Mac.</summary>
    private sealed class ReaderProbe(MacNetworkReader reader) : ISignalProbe
    {
        public string Name => MacNetworkReader.ProbeName;

        public SignalGroup Group => SignalGroup.Network;

        public void Collect(SnapshotBuilder snapshot) => reader.Collect(snapshot);
    }
}
