using SharpFuzz;

namespace CostModel.Fuzz;

/// <summary>
/// The coverage-guided fuzz entry point (run.sh beside this file runs it under AFL++) of six
/// targets, chosen by <see cref="IFuzzTarget.Variable"/>: the gossip receive path
/// (<see cref="GossipReceiverTarget"/>; unset or <c>gossip</c>) in the mesh <see cref="FuzzMesh.Variable"/>
/// names (open, signed, encrypted; unset: open), a Linux machine's probes reading hostile kernel
/// files (<see cref="LinuxMachineTarget"/>; <c>linux</c>), the JSON readers of snapshots and
/// capabilities (<see cref="JsonTarget"/>; <c>json</c>), the simulator's scenario loader and the
/// simulator (<see cref="ScenarioTarget"/>; <c>scenario</c>), or the macOS probes over hostile OS answers
/// (<see cref="MacMachineTarget"/>; <c>mac</c>, on any OS), or the Windows probes over hostile Win32
/// answers (<see cref="WinMachineTarget"/>; <c>win</c>, on any OS). Modes:
/// <list type="bullet">
/// <item><description>no arguments: SharpFuzz's fork server for <c>afl-fuzz</c>; outside AFL it runs one input read from standard input.</description></item>
/// <item><description><c>--write-corpus DIR</c>: writes the target's seed corpus (<see cref="SeedCorpus"/>, <see cref="LinuxSeedCorpus"/>, <see cref="JsonSeedCorpus"/>, <see cref="ScenarioSeedCorpus"/>, <see cref="MacSeedCorpus"/>, <see cref="WinSeedCorpus"/>).</description></item>
/// <item><description><c>--replay PATH...</c>: runs each input file (or each file in each folder) on a fresh target and prints what happened; exits 1 when one breaks an invariant. For crashes AFL saved.</description></item>
/// <item><description><c>--replay-sequence PATH...</c>: runs the inputs in the order given on one target, as AFL's persistent mode does (a crash that needs what earlier inputs left: a drift, a clock move, a node merged, a counter read), and stops at the first that breaks an invariant (exit 1).</description></item>
/// </list>
/// </summary>
internal static class Program
{
    /// <summary>
    /// 10,000 inputs: after that many the target is replaced by a fresh one. One receiver for the
    /// whole run would fill its view (4,096 nodes) and its held-message tables with what early
    /// inputs left, and from then on every input would meet that state (a full view refuses new
    /// nodes) instead of the receiver a datagram usually meets. A fresh receiver with its sender
    /// proven took about 0.3 ms (measured before the target started its rounds), so this costs
    /// nothing measurable. The environment variable
    /// <see cref="InputsPerReceiverVariable"/> overrides it: 1 gives every input a fresh target
    /// (AFL's stability near 100 %, an input's outcome never depends on earlier ones, about a
    /// fifth of the executions a second).
    /// </summary>
    private const int DefaultInputsPerReceiver = 10_000;

    private const string InputsPerReceiverVariable = "COSTMODEL_FUZZ_INPUTS_PER_RECEIVER";

    private static int Main(string[] args)
    {
        CoverageMap.EnsureMap();
        Func<IFuzzTarget> create;
        Func<string, IReadOnlyList<string>> writeCorpus;
        string name;
        try
        {
            string? target = Environment.GetEnvironmentVariable(IFuzzTarget.Variable);
            if (target is "linux")
            {
                if (!OperatingSystem.IsLinux())
                {
                    Console.Error.WriteLine($"{IFuzzTarget.Variable}=linux reads Linux probes: run it on Linux.");
                    return 2;
                }

                (create, writeCorpus, name) = LinuxTarget(LinuxMachine.FromEnvironment());
            }
            else if (target is "json")
            {
                create = () => new JsonTarget();
                writeCorpus = JsonSeedCorpus.Write;
                name = "target: json";
            }
            else if (target is "scenario")
            {
                create = () => new ScenarioTarget();
                writeCorpus = ScenarioSeedCorpus.Write;
                name = "target: scenario";
            }
            else if (target is "mac")
            {
                create = () => new MacMachineTarget();
                writeCorpus = MacSeedCorpus.Write;
                name = "target: mac, an Apple-silicon MacBook on battery";
            }
            else if (target is "win")
            {
                create = () => new WinMachineTarget();
                writeCorpus = WinSeedCorpus.Write;
                name = "target: win, a Windows laptop on battery";
            }
            else if (target is null or "" or "gossip")
            {
                FuzzMesh mesh = FuzzMesh.FromEnvironment();
                create = () => new GossipReceiverTarget(mesh);
                writeCorpus = directory => SeedCorpus.Write(directory, mesh);
                name = $"mesh: {mesh.Name}";
            }
            else
            {
                throw new InvalidOperationException($"{IFuzzTarget.Variable}='{target}' names no target: use gossip, linux, json, scenario, mac or win.");
            }
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        if (args.Length == 2 && args[0] == "--write-corpus")
        {
            foreach (string path in writeCorpus(args[1]))
            {
                Console.WriteLine(path);
            }

            return 0;
        }

        if (args.Length >= 2 && args[0] == "--replay")
        {
            return Replay(args[1..], create, name);
        }

        if (args.Length >= 2 && args[0] == "--replay-sequence")
        {
            return ReplaySequence(args[1..], create, name);
        }

        if (args.Length != 0)
        {
            Console.Error.WriteLine("usage: CostModel.Fuzz [--write-corpus DIR | --replay PATH... | --replay-sequence PATH...]  (no arguments: run under afl-fuzz)");
            return 2;
        }

        Fuzz(create);
        return 0;
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static (Func<IFuzzTarget> Create, Func<string, IReadOnlyList<string>> WriteCorpus, string Name) LinuxTarget(LinuxMachine machine) =>
        (() => new LinuxMachineTarget(machine), directory => LinuxSeedCorpus.Write(directory, machine), $"target: linux machine, {machine.Name}");

    private static void Fuzz(Func<IFuzzTarget> create)
    {
        int inputsPerReceiver = int.TryParse(Environment.GetEnvironmentVariable(InputsPerReceiverVariable), out int n) && n > 0 ? n : DefaultInputsPerReceiver;

        // Built before the fork server starts, so DI, JIT and the setup (the sender's proof, the
        // healthy tree) are paid once, and the first input's coverage is the input's, not the setup's.
        IFuzzTarget target = create();
        byte[] buffer = new byte[1 + FuzzInput.MaxDatagram];
        try
        {
            Fuzzer.Run(stream =>
            {
                if (target.Inputs >= inputsPerReceiver)
                {
                    IFuzzTarget spent = target;
                    target = CoverageMap.Unrecorded(() =>
                    {
                        spent.Dispose();
                        return create();
                    });
                }

                target.Run(buffer.AsSpan(0, ReadUpTo(stream, buffer)));
            });
        }
        finally
        {
            target.Dispose();
        }
    }

    private static int ReplaySequence(string[] files, Func<IFuzzTarget> create, string name)
    {
        Console.WriteLine(name);
        using IFuzzTarget target = create();
        foreach (string file in files)
        {
            try
            {
                Console.WriteLine($"{file}: {target.Describe(target.Run(File.ReadAllBytes(file)))}");
            }
            catch (InvariantViolationException ex)
            {
                Console.WriteLine($"{file}: INVARIANT BROKEN: {ex}");
                return 1;
            }
        }

        Console.WriteLine($"{files.Length} input(s) on one target, none broke an invariant");
        return 0;
    }

    private static int Replay(string[] paths, Func<IFuzzTarget> create, string name)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal));
            }
            else
            {
                files.Add(path);
            }
        }

        Console.WriteLine(name);
        int violations = 0;
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            using IFuzzTarget target = create();
            try
            {
                Console.WriteLine($"{file}: {target.Describe(target.Run(input))}");
            }
            catch (InvariantViolationException ex)
            {
                violations++;
                Console.WriteLine($"{file}: INVARIANT BROKEN: {ex}");
            }
        }

        Console.WriteLine($"{files.Count} input(s), {violations} broke an invariant");
        return violations == 0 ? 0 : 1;
    }

    // AFL's inputs are rarely over a few KB; anything past one datagram would be cut anyway.
    private static int ReadUpTo(Stream stream, byte[] buffer)
    {
        int total = 0;
        int read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += read;
        }

        return total;
    }
}
