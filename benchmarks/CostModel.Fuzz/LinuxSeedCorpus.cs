using System.Runtime.Versioning;

namespace CostModel.Fuzz;

/// <summary>
/// Writes the seeds of the Linux machine target (<see cref="LinuxMachine.Seeds"/>): small inputs that
/// change the healthy machine the way real machines differ (charging, a CPU quota, a hot zone, a busy
/// GPU, no battery; for a container, throttling, no quota, memory near its limit), so that AFL
/// starts from files every probe parses rather than from bytes that die at the first field. Written
/// by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=linux</c>; each is run on a fresh
/// machine first and must break no invariant.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class LinuxSeedCorpus
{
    /// <summary>Writes <paramref name="machine"/>'s seeds into <paramref name="directory"/>, each run on a fresh machine first.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <param name="machine">The machine.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvariantViolationException">A seed broke an invariant.</exception>
    public static IReadOnlyList<string> Write(string directory, LinuxMachine machine)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in machine.Seeds)
        {
            using (var target = new LinuxMachineTarget(machine))
            {
                target.Run(input);
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        return written;
    }
}
