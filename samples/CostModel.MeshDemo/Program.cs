using CostModel.MeshDemo;

// A mesh on this machine: the real node plus simulated peers gossiping over UDP on 127.0.0.1, a
// stream of routed requests, scripted events that shift the decisions, and a summary.
DemoArguments arguments;
try
{
    arguments = DemoArguments.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(DemoArguments.Usage);
    return 2;
}

if (arguments.Help)
{
    Console.WriteLine(DemoArguments.Usage);
    return 0;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends the script early and the summary is still printed; a second one ends the process.
    e.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
};

return await Demo.RunAsync(arguments, Console.Out, TimeProvider.System, stop.Token);
