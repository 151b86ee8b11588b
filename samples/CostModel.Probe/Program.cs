using System.Reactive.Concurrency;
using System.Reactive.Linq;
using CostModel;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms;
using CostModel.Probe;
using CostModel.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// --help and usage errors are answered while parsing (exit codes 0 and 2).
if (ProbeArguments.Parse(args, out int exitCode) is not { } arguments)
{
    return exitCode;
}

var settings = new Dictionary<string, string?>
{
    ["CostModel:Collection:SampleInterval"] = arguments.Interval.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
};
if (arguments.ProcRoot is not null)
{
    settings["CostModel:Linux:ProcRoot"] = arguments.ProcRoot;
}

if (arguments.SysRoot is not null)
{
    settings["CostModel:Linux:SysRoot"] = arguments.SysRoot;
}

IConfiguration configuration = new ConfigurationBuilder()
    .AddJsonFile("appsettings.json", optional: true)
    .AddInMemoryCollection(settings)
    .Build();

var services = new ServiceCollection();
services.AddMetrics();
services.AddCostModel(configuration.GetSection("CostModel"))
    .AddPlatformProbes(configuration.GetSection("CostModel:Linux"));
await using ServiceProvider provider = services.BuildServiceProvider();
ICostCollector collector = provider.GetRequiredService<ICostCollector>();

// How this configuration would gossip (the probe itself does not): on stderr with --json, so the JSON stays clean.
CostModel.Gossip.GossipOptions gossip = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<CostModel.Gossip.GossipOptions>>().Value;
string security = gossip.Keys.Count > 0
    ? $"gossip: {gossip.Keys.Count} key(s), {(gossip.Encrypt ? "encrypted (AES-256-GCM)" : "signed, not encrypted (HMAC-SHA256)")}"
    : gossip.AllowUnauthenticated
        ? "gossip: WARNING no key (AllowUnauthenticated): anyone who can reach this node can read the mesh's state and forge any node's"
        : "gossip: no key configured: gossip would refuse to start (set CostModel:Gossip:Keys, or AllowUnauthenticated on a trusted network)";
(arguments.Json ? Console.Error : Console.Out).WriteLine(security);

if (!arguments.Watch)
{
    // Rates (CPU utilisation, network throughput) need two samples one interval apart.
    NodeCostFactors snapshot = await collector.Observe(DefaultScheduler.Instance).Skip(1).FirstAsync();
    Console.WriteLine(arguments.Json ? CostModelJson.Serialize(snapshot) : FactorTable.Render(snapshot));
    return 0;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

using IDisposable subscription = collector.Observe(DefaultScheduler.Instance).Subscribe(snapshot =>
{
    if (arguments.Json)
    {
        Console.WriteLine(CostModelJson.Serialize(snapshot));
    }
    else
    {
        if (!Console.IsOutputRedirected)
        {
            Console.Clear();
        }

        Console.WriteLine(FactorTable.Render(snapshot));
    }
});

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    // Ctrl+C ends the watch.
}

return 0;
