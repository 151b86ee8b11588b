using CostModel.Routing;

namespace CostModel.Tests.Routing;

/// <summary>The router's spin gate (SpinGate): one section at a time, and free again after each.</summary>
public sealed class SpinGateTests
{
    [Fact]
    public void Sections_on_several_threads_exclude_each_other()
    {
        // An unsynchronised read-modify-write inside the gate: any two sections that overlapped would
        // lose an increment (without the gate, four threads lose thousands of these), and a gate not
        // given back at the end of a section would stop every thread at the next.
        var gate = new SpinGate();
        long count = 0;
        const int PerThread = 100_000;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                using (gate.Enter())
                {
                    long seen = count;
                    Thread.SpinWait(20); // widens the window another section could overlap in
                    count = seen + 1;
                }
            }
        });

        Assert.Equal(4L * PerThread, count);
    }
}
