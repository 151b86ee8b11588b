using System.Diagnostics;
using CostModel.Tests.Shared;

namespace CostModel.Tests.Gossip;

/// <summary>
/// The coverage-guided fuzzer (benchmarks/CostModel.Fuzz) starts from a seed corpus its own build
/// writes (<c>--write-corpus</c>, each seed checked to be accepted). A change of the wire format
/// that makes a seed refused would leave the fuzzer starting from records that die at the first
/// check (a committed corpus did, unnoticed, until 2026-12-06): this writes the corpus with this
/// build and replays every seed on a fresh receiver, in each mesh the fuzzer can run in (open,
/// signed, encrypted: the unwrapped seed is sealed for it, and a wrapped input sealed as its
/// members seal). The seeds named held-... move the sender's clock past the receiver's tolerance
/// before a state: refused (held). The seed named refused-... (keyed meshes) reloads the receiver with
/// the sender's key removed: refused. Writing the corpus also checks that the held state is merged once
/// the sender proves itself again, and that a state refused after its key was removed is merged once
/// the key is back. The fuzzer's other targets have their own seeds: a Linux machine's
/// probes over hostile kernel files (each seed must run on a fresh machine tree without breaking an
/// invariant), the JSON readers (each seed must be taken), the simulator's scenario loader and
/// simulator (each seed must be accepted and run under both policies without breaking an invariant;
/// a scenario the loader refuses is a refusal, not a broken invariant), the macOS probes over a Mac's hostile
/// answers (each seed must run on a fresh Mac without breaking an invariant; on any OS), and the
/// Windows probes over a Windows laptop's hostile Win32 answers, its GPUs' PDH, DXGI and NVML
/// answers included (each seed must run on a fresh laptop without breaking an invariant; on any OS).
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

    [Theory]
    [InlineData("open")]
    [InlineData("signed")]
    [InlineData("encrypted")]
    public void Every_seed_the_fuzzer_writes_is_accepted_by_a_fresh_receiver(string mesh)
    {
        Dictionary<string, string> seeds = WriteAndReplay(new() { ["COSTMODEL_FUZZ_MESH"] = mesh }, $"mesh: {mesh}", atLeast: 15);

        Assert.Equal(2, seeds.Keys.Count(s => Path.GetFileName(s).StartsWith("held-", StringComparison.Ordinal)));
        Assert.Equal(mesh == "open" ? 0 : 1, seeds.Keys.Count(s => Path.GetFileName(s).StartsWith("refused-", StringComparison.Ordinal)));
        foreach ((string seed, string line) in seeds)
        {
            if (Path.GetFileName(seed).StartsWith("held-", StringComparison.Ordinal) || Path.GetFileName(seed).StartsWith("refused-", StringComparison.Ordinal))
            {
                Assert.Contains(": refused", line, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains(": accepted;", line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void A_mesh_the_fuzzer_does_not_know_is_refused_with_its_name()
    {
        (int exitCode, string output) = RunFuzzer("keyless", "--replay", _directory);
        Assert.Equal(2, exitCode);
        Assert.Contains("COSTMODEL_FUZZ_MESH='keyless' names no mesh", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("laptop")]
    [InlineData("docker-v1")]
    public void Every_seed_of_the_Linux_machine_target_runs_on_a_fresh_machine_without_breaking_an_invariant(string machine)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The Linux machine target reads the Linux probes: Linux only.");
        }

        Dictionary<string, string> seeds = WriteAndReplay(new() { ["COSTMODEL_FUZZ_TARGET"] = "linux", ["COSTMODEL_FUZZ_MACHINE"] = machine }, $"target: linux machine, {machine}", atLeast: 7);

        foreach (string line in seeds.Values)
        {
            Assert.DoesNotContain("INVARIANT BROKEN", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_seed_of_the_JSON_target_is_taken_by_a_reader_without_breaking_an_invariant()
    {
        Dictionary<string, string> seeds = WriteAndReplay(new() { ["COSTMODEL_FUZZ_TARGET"] = "json" }, "target: json", atLeast: 6);

        foreach (string line in seeds.Values)
        {
            Assert.Contains(": taken as", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_seed_of_the_scenario_target_is_accepted_and_run_without_breaking_an_invariant()
    {
        Dictionary<string, string> seeds = WriteAndReplay(new() { ["COSTMODEL_FUZZ_TARGET"] = "scenario" }, "target: scenario", atLeast: 19);

        foreach (string line in seeds.Values)
        {
            Assert.Contains(": accepted", line, StringComparison.Ordinal);
            Assert.Contains("ran: costmodel:", line, StringComparison.Ordinal);
            Assert.Contains("; round-robin:", line, StringComparison.Ordinal);
        }

        // Every built-in scenario is a seed.
        Assert.Equal(Testing.Simulation.Scenario.BuiltInNames.Count, seeds.Keys.Count(s => Path.GetFileName(s).StartsWith("builtin-", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_scenario_the_loader_refuses_is_a_refusal_not_a_broken_invariant()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "negative-duration"), """{"name":"x","durationSeconds":-1,"nodes":[{"id":"a"}]}""");
        File.WriteAllText(Path.Combine(_directory, "not-json"), "{\"name\":");
        var environment = new Dictionary<string, string> { ["COSTMODEL_FUZZ_TARGET"] = "scenario" };

        (int exitCode, string output) = RunFuzzer(environment, "--replay", _directory);

        Assert.True(exitCode == 0, output);
        Assert.Contains("negative-duration: refused: fuzz: 1 problem(s): durationSeconds: must be in (0, 86400]", output, StringComparison.Ordinal);
        Assert.Contains("not-json: refused: fuzz: not a valid scenario", output, StringComparison.Ordinal);
        Assert.Contains("2 input(s), 0 broke an invariant", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_seed_of_the_mac_target_runs_on_a_fresh_Mac_without_breaking_an_invariant()
    {
        Dictionary<string, string> seeds = WriteAndReplay(new() { ["COSTMODEL_FUZZ_TARGET"] = "mac" }, "target: mac", atLeast: 12);

        foreach ((string seed, string line) in seeds)
        {
            Assert.DoesNotContain("INVARIANT BROKEN", line, StringComparison.Ordinal);

            // The healthy seed edits nothing a reader reads.
            if (Path.GetFileName(seed) == "healthy")
            {
                Assert.Contains(": read as the healthy Mac reads;", line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Every_seed_of_the_win_target_runs_on_a_fresh_Windows_laptop_without_breaking_an_invariant()
    {
        Dictionary<string, string> seeds = WriteAndReplay(new() { ["COSTMODEL_FUZZ_TARGET"] = "win" }, "target: win", atLeast: 25);

        foreach ((string seed, string line) in seeds)
        {
            Assert.DoesNotContain("INVARIANT BROKEN", line, StringComparison.Ordinal);

            // The healthy seed edits nothing a probe reads.
            if (Path.GetFileName(seed) == "healthy")
            {
                Assert.Contains(": read as the healthy Windows laptop reads;", line, StringComparison.Ordinal);
            }
        }

        // The GPU probe's four machines are seeds (the laptop's own GPUs read NVIDIA's through NVML).
        string[] names = [.. seeds.Keys.Select(s => Path.GetFileName(s))];
        Assert.Contains("gpu-nvml-busy-throttled", names);
        Assert.Contains("gpu-pdh-only", names);
        Assert.Contains("gpu-software-adapter-only", names);
        Assert.Contains("gpu-none", names);

        // Without a graphics stack, NVML or GPU counters the count cannot be searched for, and says why.
        Assert.Contains("gpu.deviceCount: cannot search for GPUs: CreateDXGIFactory1 returned DXGI_ERROR_UNSUPPORTED", seeds.Single(s => Path.GetFileName(s.Key) == "gpu-none").Value, StringComparison.Ordinal);
    }

    // Writes the seed corpus of the target the environment names, replays it, and returns each seed's
    // replay line by path; both runs must exit 0, the replay must name the target, and at least
    // atLeast seeds must be written.
    private Dictionary<string, string> WriteAndReplay(Dictionary<string, string> environment, string target, int atLeast)
    {
        (int written, string writeOutput) = RunFuzzer(environment, "--write-corpus", _directory);
        Assert.True(written == 0, $"--write-corpus exited with {written}:\n{writeOutput}");
        string[] seeds = Directory.GetFiles(_directory);
        Assert.True(seeds.Length >= atLeast, $"only {seeds.Length} seeds were written");

        (int replayed, string replayOutput) = RunFuzzer(environment, "--replay", _directory);
        Assert.True(replayed == 0, $"--replay exited with {replayed}:\n{replayOutput}");
        Assert.Contains(target, replayOutput, StringComparison.Ordinal);
        string[] lines = replayOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return seeds.ToDictionary(seed => seed, seed => Assert.Single(lines, l => l.StartsWith(seed + ":", StringComparison.Ordinal)));
    }

    private static (int ExitCode, string Output) RunFuzzer(string mesh, params string[] arguments) =>
        RunFuzzer(new Dictionary<string, string> { ["COSTMODEL_FUZZ_MESH"] = mesh }, arguments);

    private static (int ExitCode, string Output) RunFuzzer(Dictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach ((string name, string value) in environment)
        {
            info.Environment[name] = value;
        }

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
