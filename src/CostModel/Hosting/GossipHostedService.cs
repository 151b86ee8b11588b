using CostModel.Gossip;
using Microsoft.Extensions.Hosting;

namespace CostModel.Hosting;

/// <summary>
/// Registered by <c>AddGossip()</c>: in a Generic Host the gossip adapter's rounds (sampling this
/// node, publishing, relaying, liveness) start with the host and stop with it, before any transport
/// the host added after it stops (hosted services stop in reverse order).
/// </summary>
internal sealed class GossipHostedService(GossipAdapter adapter) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        adapter.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        adapter.Stop();
        return Task.CompletedTask;
    }
}
