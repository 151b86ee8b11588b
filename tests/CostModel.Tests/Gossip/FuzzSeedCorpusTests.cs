using System.Diagnostics;
using CostModel.Tests.Shared;

namespace CostModel.Tests.Gossip;

/// <summary>
/// The coverage-guided fuzzer (benchmarks/CostModel.Fuzz) starts from a seed corpus its own build
/// writes (<c>--write-corpus</c>, each seed checked to be accepted). A change of the wire format
/// that makes a seed refused would leave the fuzzer starting from records that die at the first
/// check (a committed corpus did, unnoticed, until 2026-12-06): this writes the corpus with this
/// build and replays every seed on a fresh receiver.
/// </summary>
public sealed class FuzzSeedCorpusTests : IDisposable
{
    // 2 min: each run of the fuzzer takes about a second; the bound only ends a hung process, on a
    // two-core machine shared with the rest of the suite.
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(2);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "costmodel-fuzz-seeds-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Every_seed_the_fuzzer_writes_is_accepted_by_a_fresh_receiver()
    {
        (int written, string writeOutput) = RunFuzzer("--write-corpus", _directory);
        Assert.True(written == 0, $"--write-corpus exited with {written}:\n{writeOutput}");
        string[] seeds = Directory.GetFiles(_directory);
        Assert.True(seeds.Length >= 8, $"only {seeds.Length} seeds were written");

        (int replayed, string replayOutput) = RunFuzzer("--replay", _directory);
        Assert.True(replayed == 0, $"--replay exited with {replayed}:\n{replayOutput}");
        string[] lines = replayOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string seed in seeds)
        {
            string line = Assert.Single(lines, l => l.StartsWith(seed + ":", StringComparison.Ordinal));
            Assert.Contains(": accepted;", line, StringComparison.Ordinal);
        }
    }

    private static (int ExitCode, string Output) RunFuzzer(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(FuzzerDll());
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ProcessTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the fuzzer did not end within {ProcessTimeout}");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }

    private static string FuzzerDll() => BuiltAssembly.PathOf("benchmarks", "CostModel.Fuzz");
}
