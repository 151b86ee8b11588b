using CostModel.Factors;
using CostModel.Gossip.Wire;

namespace CostModel.Tests.Gossip;

/// <summary>The node's arrival rate on the wire: appended to the state, validated, and absent from older senders.</summary>
public sealed class WireArrivalRateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static WireNodeState WithRate(double rate)
    {
        WireNodeState s = RawPeer.State(1_795_780_800_000, 1, Now.UtcTicks);
        s.Qualities[(int)WireReading.ArrivalsPerSecond] = SignalQuality.Estimated;
        s.ArrivalsPerSecond = (Half)rate;
        return s;
    }


    private static byte[] Payload(in WireNodeState s) => StatePayload.Write(s, Now);

    private static WireRejection Read(byte[] payload, out WireNodeState read) => StatePayload.Read(payload, Now, out read);

    [Fact]
    public void The_arrival_rate_travels_in_the_pending_work_group_at_binary16_precision()
    {
        byte[] payload = Payload(WithRate(123.4));
        Assert.Equal(WireRejection.None, Read(payload, out WireNodeState read));
        NodeCostFactors got = WireQuantizer.ToFactors("n", read);

        Assert.Equal(123.4, got.Pending.ArrivalsPerSecond.Value, 123.4 * 0.0005);
        Assert.Equal(SignalQuality.Estimated, got.Pending.ArrivalsPerSecond.Quality);
        Assert.Equal(WireGroup.Pending, WireNodeState.GroupOf(WireReading.ArrivalsPerSecond));
    }

    [Fact]
    public void A_state_from_an_older_sender_without_the_rate_is_read_with_the_rate_unknown()
    {
        // An older sender wrote 63 bytes after the id and left the spare quality nibble 0 (Unknown).
        WireNodeState s = RawPeer.State(1_795_780_800_000, 1, Now.UtcTicks);
        byte[] payload = Payload(s);
        byte[] older = payload[..(1 + 1 + WireFormat.StateMinimumBytes)];

        Assert.Equal(WireRejection.None, Read(older, out WireNodeState read));
        NodeCostFactors got = WireQuantizer.ToFactors("n", read);
        Assert.False(got.Pending.ArrivalsPerSecond.HasValue);
        Assert.Equal(SignalQuality.Unknown, got.Pending.ArrivalsPerSecond.Quality);
    }

    [Fact]
    public void A_state_shorter_than_the_older_layout_is_malformed()
    {
        byte[] payload = Payload(RawPeer.State(1_795_780_800_000, 1, Now.UtcTicks));
        Assert.Equal(WireRejection.MalformedRecord, Read(payload[..(1 + 1 + WireFormat.StateMinimumBytes - 1)], out _));
    }

    [Fact]
    public void A_state_cut_inside_the_arrival_rate_is_malformed()
    {
        byte[] payload = Payload(WithRate(3));
        Assert.Equal(WireRejection.MalformedRecord, Read(payload[..(1 + 1 + WireFormat.StateWithArrivalsBytes - 1)], out _));
    }

    [Fact]
    public void A_state_of_the_older_length_whose_rate_has_a_quality_is_a_cut_state_and_malformed()
    {
        // A sender of this version with a known rate, cut to the older layout: the quality nibble is
        // not the 0 an older sender wrote, so the value it vouches for is missing.
        byte[] payload = Payload(WithRate(3));
        Assert.Equal(WireRejection.MalformedRecord, Read(payload[..(1 + 1 + WireFormat.StateMinimumBytes)], out _));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(20_000.0)]
    public void An_absurd_arrival_rate_is_refused(double rate)
    {
        WireNodeState s = WithRate(rate);
        Assert.Equal("arrival rate", WireQuantizer.Validate(s));
        Assert.Equal(WireRejection.OutOfRange, Read(Payload(s), out _));
    }

    [Fact]
    public void A_rate_without_a_reading_is_refused()
    {
        WireNodeState s = WithRate(5);
        s.Qualities[(int)WireReading.ArrivalsPerSecond] = SignalQuality.Unknown;
        Assert.Equal("arrival rate without a reading", WireQuantizer.Validate(s));
    }

    [Fact]
    public void A_local_rate_above_what_binary16_holds_cannot_be_reported()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PendingWork { ArrivalsPerSecond = Reading.Measured(PendingWork.MaxArrivalsPerSecond + 1, Now, "host") });
        Assert.True(PendingWork.MaxArrivalsPerSecond < (double)Half.MaxValue);
    }
}
