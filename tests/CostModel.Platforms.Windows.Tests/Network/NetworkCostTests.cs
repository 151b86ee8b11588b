using CostModel.Factors;
using CostModel.Platforms.Windows.Network;

namespace CostModel.Platforms.Windows.Tests.Network;

public sealed class NetworkCostTests
{
    private static readonly DateTimeOffset At = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly uint[] Flags =
    [
        NetworkCost.Unrestricted, NetworkCost.Fixed, NetworkCost.Variable, NetworkCost.OverDataLimit,
        NetworkCost.Congested, NetworkCost.Roaming, NetworkCost.ApproachingDataLimit,
    ];

    public static TheoryData<uint> EveryCombination()
    {
        var data = new TheoryData<uint>();
        for (int mask = 0; mask < 1 << Flags.Length; mask++)
        {
            uint cost = 0;
            for (int i = 0; i < Flags.Length; i++)
            {
                if ((mask & (1 << i)) != 0)
                {
                    cost |= Flags[i];
                }
            }

            data.Add(cost);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryCombination))]
    public void Every_documented_flag_combination_maps_to_the_metered_tri_state(uint cost)
    {
        bool costly = (cost & (NetworkCost.Fixed | NetworkCost.Variable | NetworkCost.OverDataLimit | NetworkCost.Roaming)) != 0;
        bool unrestricted = (cost & NetworkCost.Unrestricted) != 0;

        Reading<bool> reading = NetworkCost.ToReading(cost, At);

        if (costly)
        {
            Assert.Equal(SignalQuality.Measured, reading.Quality);
            Assert.True(reading.Value);
        }
        else if (unrestricted)
        {
            Assert.Equal(SignalQuality.Measured, reading.Quality);
            Assert.False(reading.Value);
        }
        else
        {
            Assert.Equal(SignalQuality.Unknown, reading.Quality);
            Assert.Contains("does not know", reading.Reason, StringComparison.Ordinal);
        }

        Assert.Equal(At, reading.ObservedAt);
    }

    [Theory]
    [InlineData(NetworkCost.Unknown, "UNKNOWN (0x0)")]
    [InlineData(NetworkCost.Unrestricted, "UNRESTRICTED (0x1)")]
    [InlineData(NetworkCost.Fixed | NetworkCost.Roaming, "FIXED|ROAMING (0x40002)")]
    [InlineData(NetworkCost.Variable | NetworkCost.OverDataLimit | NetworkCost.ApproachingDataLimit, "VARIABLE|OVERDATALIMIT|APPROACHINGDATALIMIT (0x90004)")]
    [InlineData(NetworkCost.Unrestricted | NetworkCost.Congested, "UNRESTRICTED|CONGESTED (0x20001)")]
    [InlineData(0x8u, "undocumented 0x8 (0x8)")]
    public void The_source_and_reason_name_the_flags_and_their_value(uint cost, string expected) =>
        Assert.Equal(expected, NetworkCost.Describe(cost));

    [Theory]
    [InlineData(0x8u)]
    [InlineData(NetworkCost.Fixed | 0x100u)]
    [InlineData(0x8000_0000u)]
    public void Any_undocumented_bit_makes_the_answer_unknown_even_beside_a_metered_flag(uint cost)
    {
        Assert.Equal(NetworkCost.Verdict.Undocumented, NetworkCost.Classify(cost));
        Assert.Equal(SignalQuality.Unknown, NetworkCost.ToReading(cost, At).Quality);
    }

    [Fact]
    public void Only_unknown_congested_or_approaching_limit_without_a_cost_type_is_unknown()
    {
        Assert.Equal(NetworkCost.Verdict.Unknown, NetworkCost.Classify(NetworkCost.Unknown));
        Assert.Equal(NetworkCost.Verdict.Unknown, NetworkCost.Classify(NetworkCost.Congested | NetworkCost.ApproachingDataLimit));
        Assert.Equal(NetworkCost.Verdict.NotMetered, NetworkCost.Classify(NetworkCost.Unrestricted | NetworkCost.ApproachingDataLimit));
    }
}
