namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// samples/CostModel.MeshDemo as a separate OS process, with a 12-second script: its nodes gossip
/// over UDP on 127.0.0.1, this machine's router places the requests, and the scripted unplug must
/// visibly move work off the laptop. The waits are on output lines, with timeouts.
/// </summary>
public sealed class MeshDemoProcessTests
{
    /// <summary>The script is 12 s; the mesh joins in well under a second. Generous for a loaded CI machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(25);

    [Fact]
    public async Task A_short_run_routes_shifts_off_the_unplugged_laptop_and_ends_with_a_summary()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var demo = SampleProcess.Start("CostModel.MeshDemo", ["--duration", "12", "--seed", "1"]);

        await demo.WaitForAsync(l => l.StartsWith("joined: this-machine heard from laptop, desktop, gpu-box", StringComparison.Ordinal), Patience, ct);
        await demo.WaitForAsync(IsDecision, Patience, ct);
        await demo.WaitForAsync(l => l.Contains("==== laptop unplugged", StringComparison.Ordinal), Patience, ct);
        await demo.WaitForAsync(l => l.Contains("view  this-machine sees laptop on battery", StringComparison.Ordinal), Patience, ct);
        await demo.WaitForAsync(l => l.Contains("==== desktop overheats", StringComparison.Ordinal), Patience, ct);
        await demo.WaitForAsync(l => l.StartsWith("summary: ", StringComparison.Ordinal), Patience, ct);
        await demo.WaitForAsync(l => l.StartsWith("4 gpu-box free", StringComparison.Ordinal), Patience, ct);
        int exitCode = await demo.WaitForExitAsync(Patience, ct);

        IReadOnlyList<string> lines = demo.Seen;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join('\n', lines));
        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(lines, l => l.StartsWith("stderr ", StringComparison.Ordinal));

        // The shift: the plugged-in laptop takes jobs before the unplug; once this machine's view
        // has heard (over gossip) that it is on battery, no request goes to it.
        int unplugged = IndexOf(lines, l => l.Contains("==== laptop unplugged", StringComparison.Ordinal));
        int seen = IndexOf(lines, l => l.Contains("view  this-machine sees laptop on battery", StringComparison.Ordinal));
        int summary = IndexOf(lines, l => l.StartsWith("summary: ", StringComparison.Ordinal));
        Assert.Contains(lines.Take(unplugged), l => IsDecision(l) && Target(l) == "laptop");
        string[] after = [.. lines.Skip(seen + 1).Take(summary - seen - 1).Where(IsDecision)];
        Assert.NotEmpty(after);
        Assert.DoesNotContain(after, l => Target(l) == "laptop");

        // On battery the laptop's jobs go to the next cheapest, the desktop (mains), until it overheats:
        // not to the dearer paid API. The simulated peers do not route, so this machine expects no herd
        // of their requests to spread its own around (before, each peer built a router it never used and
        // counted as one: the jobs went to the API at about 0.0074 $ with the desktop at 0.0058 $ next).
        int overheats = IndexOf(lines, l => l.Contains("==== desktop overheats", StringComparison.Ordinal));
        string[] jobsOnBattery = [.. lines.Skip(seen + 1).Take(overheats - seen - 1).Where(l => IsDecision(l) && Label(l) == "job")];
        Assert.NotEmpty(jobsOnBattery);
        Assert.All(jobsOnBattery, l => Assert.Equal("desktop", Target(l)));

        // The summary table: per target, then per phase.
        Assert.Contains(lines, l => l.StartsWith("target ", StringComparison.Ordinal) && l.Contains("requests", StringComparison.Ordinal) && l.Contains("mean cost", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("1 all well", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("4 gpu-box free", StringComparison.Ordinal));
    }

    private static bool IsDecision(string line) => line.Contains(" -> ", StringComparison.Ordinal);

    // A decision line: time, "s", the request's label, "->", the target, ...
    private static string Label(string decision) => decision.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];

    private static string Target(string decision)
    {
        string rest = decision[(decision.IndexOf(" -> ", StringComparison.Ordinal) + 4)..];
        return rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
    }

    private static int IndexOf(IReadOnlyList<string> lines, Func<string, bool> match)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            if (match(lines[i]))
            {
                return i;
            }
        }

        Assert.Fail("line not found");
        return -1;
    }
}
