using CostModel.Routing;

namespace CostModel.Tests.Routing;

/// <summary>
/// The picker finds the cheapest candidate and the ones that may be its near-equals in one pass
/// (<see cref="PickerScan"/>); it must return exactly what the two plain passes return: the first
/// admitted candidate replaced by each later one strictly cheaper, and every admitted candidate at
/// most the limit of that cheapest, in order.
/// </summary>
public sealed class PickerScanTests
{
    private const byte Eligible = 0;
    private const byte Soft = 1;
    private const byte Hard = 2;

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    [InlineData(0.125)] // PickerScan.MaxOnePassTolerance: the widest searched in one pass
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void One_pass_finds_what_two_plain_passes_find(double tolerance)
    {
        var random = new Random(17);
        for (int round = 0; round < 20_000; round++)
        {
            int count = random.Next(0, 40);
            var verdicts = new byte[count];
            var totals = new double[count];
            double scale = random.Next(3) switch { 0 => 1e-6, 1 => 1, _ => 1e6 };
            double tight = random.NextDouble() * 0.3;
            for (int i = 0; i < count; i++)
            {
                verdicts[i] = (byte)random.Next(3);
                totals[i] = random.Next(40) switch
                {
                    0 => double.NaN,
                    1 => double.PositiveInfinity,
                    2 => double.NegativeInfinity,
                    3 => 0.0,
                    4 => -0.0,
                    // Ties and totals a few steps apart, where rounding could matter.
                    < 12 => Math.BitIncrement(scale),
                    < 16 => scale * (1 + tight),
                    < 20 => -scale * (1 + (random.NextDouble() * 0.2)),
                    _ => scale * (1 + (random.NextDouble() * 0.5)),
                };
            }

            foreach (byte admit in (byte[])[Eligible, Soft])
            {
                double epsilon = random.Next(2) == 0 ? 0 : 0.0001 * scale;
                var near = new int[count];
                int best = PickerScan.Scan(verdicts, totals, admit, tolerance, epsilon, near, out int kept);
                (int expectedBest, int[] expectedNear) = Plain(verdicts, totals, admit, tolerance, epsilon);
                Assert.Equal(expectedBest, best);
                if (best >= 0)
                {
                    int found = PickerScan.Near(verdicts, totals, admit, totals[best], tolerance, epsilon, near, kept);
                    Assert.Equal(expectedNear, near[..found]);
                }
            }
        }
    }

    /// <summary>The picker's two passes as they were written before the one-pass scan.</summary>
    private static (int Best, int[] Near) Plain(byte[] verdicts, double[] totals, byte admit, double tolerance, double epsilon)
    {
        int best = -1;
        double cheapest = 0;
        for (int i = 0; i < verdicts.Length; i++)
        {
            if (verdicts[i] <= admit && (best < 0 || totals[i] < cheapest))
            {
                best = i;
                cheapest = totals[i];
            }
        }

        var near = new List<int>();
        double limit = cheapest + (Math.Abs(cheapest) * tolerance) + epsilon;
        for (int i = 0; best >= 0 && i < verdicts.Length; i++)
        {
            if (verdicts[i] <= admit && totals[i] <= limit)
            {
                near.Add(i);
            }
        }

        return (best, [.. near]);
    }
}
