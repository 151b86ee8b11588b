using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;

// Run: dotnet run -c Release --project benchmarks/CostModel.Benchmarks -- --filter '*'
//
// --in-process-no-emit (benchmarks/wine-snapshot): the default job in this process, published
// with DynamicCodeSupport=false. Under Wine 8, BenchmarkDotNet cannot build and start a child
// project, and any DynamicMethod (the emitting in-process toolchain, the service provider's
// compiled resolvers) crashes the runtime when finalized ("Internal CLR error" in
// DynamicResolver's finalizer); the summary's host-information probing stops the process, so
// the figures come from the console's per-benchmark statistics and the CSV report.
const string NoEmit = "--in-process-no-emit";
IConfig? config = null;
if (args.Contains(NoEmit))
{
    config = ManualConfig.CreateEmpty()
        .AddJob(Job.Default.WithToolchain(InProcessNoEmitToolchain.Instance))
        .AddLogger(ConsoleLogger.Default)
        .AddColumnProvider(DefaultColumnProviders.Instance)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddExporter(CsvExporter.Default);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. args.Where(a => a != NoEmit)], config);
