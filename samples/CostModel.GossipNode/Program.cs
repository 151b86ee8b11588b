using CostModel.GossipNode;
using CostModel.Platforms;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// One mesh node per process, as a Generic Host runs one: this machine's real collector, the gossip
// adapter and the UDP transport (or, with --nats, the NATS one; started and stopped by the host), and a reporter that routes once
// a second and prints what it sees. --help and usage errors are answered while parsing (exit codes 0 and 2).
if (NodeArguments.Parse(args, out int exitCode) is not { } arguments)
{
    return exitCode;
}

HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = args });
builder.Configuration
    .AddJsonFile("appsettings.json", optional: true)
    .AddInMemoryCollection(arguments.ToConfiguration());
builder.Services.AddMetrics();
CostModel.DependencyInjection.ICostModelBuilder costModel = builder.Services.AddCostModel(builder.Configuration.GetSection("CostModel"))
    .AddPlatformProbes()
    .AddGossip();
if (arguments.Nats is null)
{
    costModel.AddUdpGossipTransport();
}
else
{
    costModel.AddNatsGossipTransport();
}

builder.Services.AddSingleton(arguments);
builder.Services.AddHostedService<NodeReporter>();

using IHost host = builder.Build();
try
{
    await host.StartAsync();
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

// Stop on Ctrl+C, at the end of --duration, or when a parent closes our stdin (a test harness, a supervisor).
IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    lifetime.StopApplication();
};
using var stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
if (arguments.Duration is { } duration)
{
    stopping.CancelAfter(duration);
}

_ = Task.Run(async () =>
{
    await Console.In.ReadToEndAsync(stopping.Token).ConfigureAwait(false);
    lifetime.StopApplication();
});

try
{
    await Task.Delay(Timeout.Infinite, stopping.Token);
}
catch (OperationCanceledException)
{
    // Stopping is the normal end of the run.
}

await host.StopAsync();
return 0;
