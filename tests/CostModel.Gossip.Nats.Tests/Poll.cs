using System.Diagnostics;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>
/// Waits for a condition over real network I/O: checks it every 20 ms until it holds or a generous
/// timeout passes (a poll for an outcome, not a sleep standing in for synchronisation).
/// </summary>
internal static class Poll
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(20);

    /// <summary>Returns how long the condition took; fails with <paramref name="describe"/> when it never held.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<bool> condition, Func<string> describe, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? Patience;
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > limit)
            {
                Assert.Fail($"not within {limit}: {describe()}");
            }

            await Task.Delay(Every, TestContext.Current.CancellationToken);
        }

        return waited.Elapsed;
    }
}
