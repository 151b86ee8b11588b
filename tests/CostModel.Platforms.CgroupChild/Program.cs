using System.Diagnostics;
using System.Globalization;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;

// Runs the real Linux container and compute probes twice, with a bounded busy loop between the
// passes, and prints what they read as key=value lines. Started by the real cgroup test inside a
// CPU-limited child cgroup: `CostModel.Platforms.CgroupChild [--seconds 1.5] [--threads 2]`.
double seconds = 1.5;
int threads = 2;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

if (!OperatingSystem.IsLinux())
{
    Console.Error.WriteLine("the Linux probes need Linux");
    return 3;
}

var services = new ServiceCollection();
services.AddSingleton<IProbeFailureReporter, PrintingReporter>();
services.AddCostModel(_ => { }).AddPlatformProbes();
using ServiceProvider provider = services.BuildServiceProvider();
ISignalProbe[] probes = [.. provider.GetServices<ISignalProbe>()];
ISignalProbe container = Array.Find(probes, p => p.Name == "linux.container") ?? throw new InvalidOperationException("linux.container is not registered");
ISignalProbe compute = Array.Find(probes, p => p.Name == "linux.compute") ?? throw new InvalidOperationException("linux.compute is not registered");

var snapshot = new SnapshotBuilder(TimeProvider.System);
container.Collect(snapshot);
compute.Collect(snapshot);

// Bounded busy loop: each thread spins until the wall-clock budget is spent.
var workers = new Thread[threads];
long sink = 0;
Stopwatch wall = Stopwatch.StartNew();
for (int t = 0; t < workers.Length; t++)
{
    workers[t] = new Thread(() =>
    {
        long x = 1;
        while (wall.Elapsed.TotalSeconds < seconds)
        {
            for (int k = 0; k < 100_000; k++)
            {
                x = (x * 6364136223846793005) + 1442695040888963407;
            }
        }

        Interlocked.Add(ref sink, x | 1);
    })
    { IsBackground = true };
    workers[t].Start();
}

foreach (Thread worker in workers)
{
    worker.Join();
}

container.Collect(snapshot);
compute.Collect(snapshot);

Console.WriteLine($"wallSeconds={wall.Elapsed.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)}");
Console.WriteLine($"spin={(sink != 0 ? "done" : "none")}");
Console.WriteLine($"layout={snapshot.Container.Layout}");
Print("cpuLimitCores", snapshot.Container.CpuLimitCores, l => l.IsUnlimited ? "unlimited" : Text(l.Amount));
Print("memoryLimitBytes", snapshot.Container.MemoryLimitBytes, l => l.IsUnlimited ? "unlimited" : Text(l.Amount));
Print("memoryWorkingSetBytes", snapshot.Container.MemoryWorkingSetBytes, v => Text(v));
Print("throttledPeriods", snapshot.Container.ThrottledPeriods, v => Text(v));
Print("throttledShare", snapshot.Container.ThrottledShare, Text);
Print("effectiveCores", snapshot.Compute.EffectiveCores, Text);
Print("cpuUtilization", snapshot.Compute.CpuUtilization, Text);
Print("loadPerCore", snapshot.Compute.LoadPerCore, Text);
Print("cpuPressure", snapshot.Compute.CpuPressure, Text);
Print("memoryTotalBytes", snapshot.Compute.MemoryTotalBytes, v => Text(v));
return 0;

static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

static void Print<T>(string key, Reading<T> reading, Func<T, string> format)
    where T : struct
{
    Console.WriteLine($"{key}={(reading.TryGetValue(out T value) ? format(value) : "none")}");
    Console.WriteLine($"{key}.quality={reading.Quality}");
    Console.WriteLine($"{key}.note={(reading.HasValue ? reading.Source : reading.Reason)}");
}

/// <summary>Prints probe failures so that the parent test can show them.</summary>
internal sealed class PrintingReporter : IProbeFailureReporter
{
    public void Report(string probe, string reason, string detail) => Console.WriteLine($"failure={probe} {reason} {detail}");
}
