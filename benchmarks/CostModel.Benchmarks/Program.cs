using BenchmarkDotNet.Running;

// Run: dotnet run -c Release --project benchmarks/CostModel.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
