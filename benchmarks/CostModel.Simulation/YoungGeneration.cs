using System.Diagnostics;

namespace CostModel.Simulation;

/// <summary>
/// Runs the report with a young generation of <see cref="Gen0Budget"/>: the runtime takes that
/// budget from the environment only (<c>DOTNET_GCgen0size</c>; the runtime configuration file's
/// <c>System.GC.Gen0Size</c> and <c>GCgen0size</c> are ignored, checked on .NET 10), so the runner
/// starts itself again with the variable set, unless it is set already (set it to choose another
/// budget; 0 keeps the runtime's own).
/// </summary>
/// <remarks>
/// Why: a routing node of the simulator rebuilds its view of every peer whose state changed since
/// its last decision (seconds apart), and every node forms a state per peer during the run. With
/// the runtime's budget (about 30 MB a young collection here) those views outlived the young
/// generation and died in the older ones: 120 young and 35 older collections in a 1,000-node, 60 s
/// run, 23 s of pauses in 90 s of CPU; with 256 MiB, 27 and 17, 8 s of pauses in 71 s of CPU
/// (load ~11; docs/simulation.md, "Scale"). In the fifth round the budget became 64 MiB with the
/// <see cref="MemoryBudget"/> beside it: a smaller young generation alone raised the peak (64 MiB:
/// 1.77 GB against 1.61 GB, the views then dying in the rarely collected old generation), which
/// the budget's collections now clear.
/// </remarks>
internal static class YoungGeneration
{
    /// <summary>The environment variable the runtime reads the young generation's budget from.</summary>
    public const string Variable = "DOTNET_GCgen0size";

    /// <summary>
    /// 64 MiB (hexadecimal, as the runtime reads it). With 256 MiB (until the fifth round) more
    /// routers' views died young, but the young generation alone took a quarter of the 1 GiB a
    /// 1,000-node run may use; the views that now outlive it are collected by the
    /// <see cref="MemoryBudget"/> when the process nears its budget.
    /// </summary>
    public const string Gen0Budget = "0x4000000";

    /// <summary>
    /// Runs the runner again as a child process with <see cref="Variable"/> set and returns its exit
    /// code; null when the variable is set already (this is the child, or the user chose) or this
    /// process cannot be started again, and the caller runs the report itself.
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <returns>The child's exit code, or null.</returns>
    public static int? RunAgainWithBudget(IReadOnlyList<string> args)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not null || Environment.GetEnvironmentVariable("COMPlus_GCgen0size") is not null
            || Environment.ProcessPath is not { } host)
        {
            return null;
        }

        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // Started as "dotnet CostModel.Simulation.dll ...": the host needs the assembly again.
            start.ArgumentList.Add(typeof(YoungGeneration).Assembly.Location);
        }

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[Variable] = Gen0Budget;
        using Process child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{host}' again.");
        child.WaitForExit();
        return child.ExitCode;
    }
}
