using CostModel.Factors;
using CostModel.Gossip.Wire;

namespace CostModel.Tests.Gossip;

/// <summary>The node's routed rate on the wire: appended after the arrival rate with its own quality, validated, and absent from older senders.</summary>
public sealed class WireRoutedRateTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    // The id "n" takes its length byte and one byte before the fixed part.
    private const int IdBytes = 2;

    private static WireNodeState WithRate(double rate)
    {
        WireNodeState s = RawPeer.State(1_795_780_800_000, 1, Now.UtcTicks);
        s.Qualities[(int)WireReading.RoutedPerSecond] = SignalQuality.Estimated;
        s.RoutedPerSecond = (Half)rate;
        return s;
    }


    private static byte[] Payload(in WireNodeState s) => StatePayload.Write(s, Now);

    private static WireRejection Read(byte[] payload, out WireNodeState read) => StatePayload.Read(payload, Now, out read);

    [Fact]
    public void The_routed_rate_travels_with_its_quality_in_the_pending_work_group()
    {
        byte[] payload = Payload(WithRate(0.25));
        Assert.Equal(IdBytes + WireFormat.StateFixedBytes, payload.Length);
        Assert.Equal(WireRejection.None, Read(payload, out WireNodeState read));
        NodeCostFactors got = WireQuantizer.ToFactors("n", read);

        Assert.Equal(0.25, got.Pending.RoutedPerSecond.Value, 0.25 * 0.0005);
        Assert.Equal(SignalQuality.Estimated, got.Pending.RoutedPerSecond.Quality);
        Assert.Equal(WireGroup.Pending, WireNodeState.GroupOf(WireReading.RoutedPerSecond));
    }

    [Fact]
    public void A_factor_round_trip_keeps_a_rate_as_small_as_the_router_threshold()
    {
        // One request per 100 minutes must stay distinguishable from none after binary16 rounding.
        WireNodeState s = WithRate(PendingWork.MinRouterRate);
        Assert.Equal(WireRejection.None, Read(Payload(s), out WireNodeState read));
        double got = WireQuantizer.ToFactors("n", read).Pending.RoutedPerSecond.Value;
        Assert.Equal(PendingWork.MinRouterRate, got, PendingWork.MinRouterRate * 0.001);
    }

    [Fact]
    public void A_state_of_the_layout_before_the_routed_rate_is_read_with_it_unknown_and_the_arrival_rate_kept()
    {
        WireNodeState s = WithRate(2);
        s.RoutedPerSecond = default;
        s.Qualities[(int)WireReading.RoutedPerSecond] = SignalQuality.Unknown;
        s.Qualities[(int)WireReading.ArrivalsPerSecond] = SignalQuality.Estimated;
        s.ArrivalsPerSecond = (Half)7;
        byte[] older = Payload(s)[..(IdBytes + WireFormat.StateWithArrivalsBytes)];

        Assert.Equal(WireRejection.None, Read(older, out WireNodeState read));
        NodeCostFactors got = WireQuantizer.ToFactors("n", read);
        Assert.Equal(SignalQuality.Unknown, got.Pending.RoutedPerSecond.Quality);
        Assert.Equal(7, got.Pending.ArrivalsPerSecond.Value);
    }

    [Fact]
    public void A_sender_of_this_version_cut_to_the_older_length_loses_only_the_routed_rate()
    {
        // The routed rate's quality travels with it, so a cut at the older layout is that layout:
        // read as a sender that never knew the rate, not refused.
        byte[] older = Payload(WithRate(3))[..(IdBytes + WireFormat.StateWithArrivalsBytes)];
        Assert.Equal(WireRejection.None, Read(older, out WireNodeState read));
        Assert.Equal(SignalQuality.Unknown, read.Qualities[(int)WireReading.RoutedPerSecond]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_state_cut_inside_the_routed_rate_is_malformed(int cut)
    {
        byte[] payload = Payload(WithRate(3));
        Assert.Equal(WireRejection.MalformedRecord, Read(payload[..^cut], out _));
    }

    [Fact]
    public void A_longer_state_from_a_newer_sender_is_read_up_to_what_this_version_knows()
    {
        byte[] payload = [.. Payload(WithRate(3)), 0xAB, 0xCD];
        Assert.Equal(WireRejection.None, Read(payload, out WireNodeState read));
        Assert.Equal((Half)3, read.RoutedPerSecond);
    }

    [Fact]
    public void A_set_reserved_nibble_beside_the_routed_quality_is_refused()
    {
        byte[] payload = Payload(WithRate(3));
        payload[^3] |= 0x10;
        Assert.Equal(WireRejection.OutOfRange, Read(payload, out _));
    }

    [Fact]
    public void An_unknown_quality_value_for_the_routed_rate_is_refused()
    {
        byte[] payload = Payload(WithRate(3));
        payload[^3] = 0x0F;
        Assert.Equal(WireRejection.OutOfRange, Read(payload, out _));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(20_000.0)]
    public void An_absurd_routed_rate_is_refused(double rate)
    {
        WireNodeState s = WithRate(rate);
        Assert.Equal("routed rate", WireQuantizer.Validate(s));
        Assert.Equal(WireRejection.OutOfRange, Read(Payload(s), out _));
    }

    [Fact]
    public void A_routed_rate_without_a_reading_is_refused()
    {
        WireNodeState s = WithRate(5);
        s.Qualities[(int)WireReading.RoutedPerSecond] = SignalQuality.NotSupported;
        Assert.Equal("routed rate without a reading", WireQuantizer.Validate(s));
        Assert.Equal(WireRejection.OutOfRange, Read(Payload(s), out _));
    }

    [Fact]
    public void A_local_routed_rate_out_of_range_cannot_be_reported()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PendingWork { RoutedPerSecond = Reading.Measured(-0.5, Now, "router") });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PendingWork { RoutedPerSecond = Reading.Measured(double.NaN, Now, "router") });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PendingWork { RoutedPerSecond = Reading.Measured(PendingWork.MaxArrivalsPerSecond + 1, Now, "router") });
    }
}
