using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

/// <summary>The walk over a <c>sysctl NET_RT_IFLIST2</c> buffer, on synthetic buffers built from the header layouts (see Fixtures/network/README.md).</summary>
public sealed class InterfaceListTests
{
    [Fact]
    public void The_interfaces_message_is_found_among_others_and_their_address_messages()
    {
        byte[] buffer = new RouteMessageBuffer()
            .Interface(index: 1, receiveBytes: 111, transmitBytes: 112)   // lo0
            .Address(1).Address(1, RouteMessageBuffer.RtmNewMAddr2)
            .Interface(index: 6, receiveBytes: 6_000_000_000, transmitBytes: 5_000_000_000, baudRate: 1_000_000_000)
            .Address(6)
            .Interface(index: 14, receiveBytes: 141, transmitBytes: 142)
            .ToArray();

        InterfaceListResult result = InterfaceList.Find(buffer, 6);

        Assert.Equal(InterfaceListStatus.Found, result.Status);
        Assert.Equal(6_000_000_000ul, result.Counters.ReceiveBytes); // past 4 GiB: the 64-bit counters, not getifaddrs' 32-bit ones
        Assert.Equal(5_000_000_000ul, result.Counters.TransmitBytes);
        Assert.Equal(1_000_000_000ul, result.Counters.BaudRate);
        Assert.Equal(0x8863, result.Counters.Flags);
    }

    [Fact]
    public void An_index_not_in_a_well_formed_list_is_missing()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(1, 1, 1).Address(1).Interface(4, 4, 4).ToArray();

        Assert.Equal(InterfaceListStatus.Missing, InterfaceList.Find(buffer, 5).Status);
        Assert.Equal(InterfaceListStatus.Missing, InterfaceList.Find([], 5).Status);
    }

    [Fact]
    public void A_message_length_of_zero_stops_the_walk_instead_of_looping()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(1, 1, 1).Raw(0, 0, 5, 0x12).Interface(6, 6, 6).ToArray();

        InterfaceListResult result = InterfaceList.Find(buffer, 6);

        Assert.Equal(InterfaceListStatus.Malformed, result.Status);
        Assert.Contains("offset 160 has length 0", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_running_past_the_end_is_truncated_and_not_read()
    {
        byte[] whole = new RouteMessageBuffer().Interface(1, 1, 1).Interface(6, 6, 6).ToArray();
        byte[] truncated = whole[..^10];

        InterfaceListResult result = InterfaceList.Find(truncated, 6);

        Assert.Equal(InterfaceListStatus.Malformed, result.Status);
        Assert.Contains("claims 160 bytes but 150 remain", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_few_trailing_bytes_shorter_than_a_header_are_malformed()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(1, 1, 1).Raw(0xA0, 0).ToArray();

        InterfaceListResult result = InterfaceList.Find(buffer, 6);

        Assert.Equal(InterfaceListStatus.Malformed, result.Status);
        Assert.Contains("2 trailing bytes", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_target_found_before_a_broken_tail_is_still_found()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(6, 60, 61).Raw(0, 0, 5, 0x12).ToArray();

        Assert.Equal(InterfaceListStatus.Found, InterfaceList.Find(buffer, 6).Status);
    }

    [Fact]
    public void An_ifinfo2_message_of_another_version_is_not_read_and_its_skipping_is_said()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(6, 60, 61, version: 4).Interface(7, 70, 71).ToArray();

        InterfaceListResult result = InterfaceList.Find(buffer, 6);

        Assert.Equal(InterfaceListStatus.Malformed, result.Status);
        Assert.Contains("skipped 1 RTM_IFINFO2 messages of a version other than 5", result.Problem, StringComparison.Ordinal);
        Assert.Equal(InterfaceListStatus.Found, InterfaceList.Find(buffer, 7).Status);
    }

    [Fact]
    public void An_ifinfo2_message_shorter_than_if_msghdr2_is_not_read()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(6, 60, 61, messageLength: 100).Interface(7, 70, 71).ToArray();

        InterfaceListResult result = InterfaceList.Find(buffer, 6);

        Assert.Equal(InterfaceListStatus.Malformed, result.Status);
        Assert.Contains("1 shorter than 160 bytes", result.Problem, StringComparison.Ordinal);
        Assert.Equal(InterfaceListStatus.Found, InterfaceList.Find(buffer, 7).Status); // the walk went on by the short message's own length
    }

    [Fact]
    public void A_longer_ifinfo2_message_from_a_newer_kernel_is_read_and_skipped_by_its_length()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(6, 60, 61, messageLength: 200).Interface(7, 70, 71).ToArray();

        Assert.Equal(60ul, InterfaceList.Find(buffer, 6).Counters.ReceiveBytes);
        Assert.Equal(71ul, InterfaceList.Find(buffer, 7).Counters.TransmitBytes);
    }

    [Fact]
    public void Counters_at_the_top_of_the_64_bit_range_are_read_as_they_are()
    {
        byte[] buffer = new RouteMessageBuffer().Interface(6, ulong.MaxValue, ulong.MaxValue - 1, baudRate: ulong.MaxValue).ToArray();

        InterfaceCounters counters = InterfaceList.Find(buffer, 6).Counters;

        Assert.Equal(ulong.MaxValue, counters.ReceiveBytes);
        Assert.Equal(ulong.MaxValue - 1, counters.TransmitBytes);
        Assert.Equal(ulong.MaxValue, counters.BaudRate);
    }

    [Fact]
    public void Random_bytes_never_throw_and_never_read_outside_the_buffer()
    {
        var random = new Random(20261206);
        for (int i = 0; i < 2000; i++)
        {
            byte[] noise = new byte[random.Next(0, 600)];
            random.NextBytes(noise);
            if (noise.Length >= 4 && i % 2 == 0)
            {
                noise[3] = InterfaceList.RtmIfInfo2; // half of them look like an interface message
                noise[2] = InterfaceList.RtmVersion;
            }

            InterfaceListResult result = InterfaceList.Find(noise, (uint)random.Next(0, 20));

            Assert.True(Enum.IsDefined(result.Status));
        }
    }
}
