using CostModel.MeshDemo;

// A mesh on this machine: the real node plus simulated peers gossiping over UDP on 127.0.0.1, a
// stream of routed requests, scripted events that shift the decisions, and a summary.

// --help and usage errors are answered while parsing (exit codes 0 and 2).
if (DemoArguments.Parse(args, out int exitCode) is not { } arguments)
{
    return exitCode;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends the script early and the summary is still printed; a second one ends the process.
    e.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
};

return await Demo.RunAsync(arguments, Console.Out, TimeProvider.System, stop.Token);
