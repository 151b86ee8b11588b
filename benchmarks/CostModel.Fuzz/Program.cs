using SharpFuzz;

namespace CostModel.Fuzz;

/// <summary>
/// The coverage-guided fuzz entry point of the gossip receive path (run.sh beside this file runs
/// it under AFL++). Modes:
/// <list type="bullet">
/// <item><description>no arguments: SharpFuzz's fork server for <c>afl-fuzz</c>; outside AFL it runs one input read from standard input.</description></item>
/// <item><description><c>--write-corpus DIR</c>: writes the seed corpus (<see cref="SeedCorpus"/>).</description></item>
/// <item><description><c>--replay PATH...</c>: runs each input file (or each file in each folder) on a fresh receiver and prints what happened; exits 1 when one breaks an invariant. For crashes AFL saved.</description></item>
/// </list>
/// </summary>
internal static class Program
{
    /// <summary>
    /// 10,000 inputs: after that many the receiver is replaced by a fresh one. One receiver for the
    /// whole run would fill its view (4,096 nodes) and its held-message tables with what early
    /// inputs left, and from then on every input would meet that state (a full view refuses new
    /// nodes) instead of the receiver a datagram usually meets. A fresh receiver with its sender
    /// proven took about 0.3 ms (measured before the target started its rounds), so this costs
    /// nothing measurable. The environment variable
    /// <see cref="InputsPerReceiverVariable"/> overrides it: 1 gives every input a fresh receiver
    /// (AFL's stability near 100 %, an input's outcome never depends on earlier ones, about a
    /// fifth of the executions a second).
    /// </summary>
    private const int DefaultInputsPerReceiver = 10_000;

    private const string InputsPerReceiverVariable = "COSTMODEL_FUZZ_INPUTS_PER_RECEIVER";

    private static int Main(string[] args)
    {
        CoverageMap.EnsureMap();
        if (args.Length == 2 && args[0] == "--write-corpus")
        {
            foreach (string path in SeedCorpus.Write(args[1]))
            {
                Console.WriteLine(path);
            }

            return 0;
        }

        if (args.Length >= 2 && args[0] == "--replay")
        {
            return Replay(args[1..]);
        }

        if (args.Length != 0)
        {
            Console.Error.WriteLine("usage: CostModel.Fuzz [--write-corpus DIR | --replay PATH...]  (no arguments: run under afl-fuzz)");
            return 2;
        }

        Fuzz();
        return 0;
    }

    private static void Fuzz()
    {
        int inputsPerReceiver = int.TryParse(Environment.GetEnvironmentVariable(InputsPerReceiverVariable), out int n) && n > 0 ? n : DefaultInputsPerReceiver;

        // Built before the fork server starts, so DI, JIT and the proof handshake are paid once,
        // and the first input's coverage is the receive path's, not the setup's.
        var target = new GossipReceiverTarget();
        byte[] buffer = new byte[1 + FuzzInput.MaxDatagram];
        try
        {
            Fuzzer.Run(stream =>
            {
                if (target.Inputs >= inputsPerReceiver)
                {
                    GossipReceiverTarget spent = target;
                    target = CoverageMap.Unrecorded(() =>
                    {
                        spent.Dispose();
                        return new GossipReceiverTarget();
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

    private static int Replay(string[] paths)
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

        int violations = 0;
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            using var target = new GossipReceiverTarget();
            try
            {
                bool accepted = target.Run(input);
                string reasons = target.LastReasons.Count == 0 ? "" : $" ({string.Join(", ", target.LastReasons)})";
                Console.WriteLine($"{file}: {(accepted ? "accepted" : "refused")}{reasons}; view of {target.ViewCount} node(s)");
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
