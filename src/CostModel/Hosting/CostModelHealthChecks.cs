using CostModel.Collection;
using CostModel.Gossip;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CostModel.Hosting;

/// <summary>
/// Health of the collector: Healthy when a snapshot was taken within
/// <see cref="StaleAfterIntervals"/> sample intervals, Degraded when the last one is older (nothing
/// samples: no gossip running, or a probe hangs), Unhealthy before the first.
/// </summary>
internal sealed class CollectorHealthCheck(ICostCollector collector, TimeProvider time) : IHealthCheck
{
    /// <summary>3 intervals: one late or skipped round (a slow probe) is not yet a fault.</summary>
    internal const int StaleAfterIntervals = 3;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (collector is not CostCollector own)
        {
            return Task.FromResult(HealthCheckResult.Healthy("a host-provided collector (not checked)"));
        }

        if (own.LastCollectedAt is not { } last)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("no snapshot taken yet"));
        }

        TimeSpan age = time.GetUtcNow() - last;
        TimeSpan limit = own.SampleInterval * StaleAfterIntervals;
        var data = new Dictionary<string, object> { ["lastSnapshotAgeSeconds"] = age.TotalSeconds, ["sampleIntervalSeconds"] = own.SampleInterval.TotalSeconds };
        return Task.FromResult(age <= limit
            ? HealthCheckResult.Healthy($"last snapshot {age.TotalSeconds:0.0} s ago", data)
            : HealthCheckResult.Degraded($"last snapshot {age.TotalSeconds:0.0} s ago, more than {StaleAfterIntervals} sample intervals ({limit.TotalSeconds:0.0} s): is anything sampling?", data: data));
    }
}

/// <summary>
/// Health of gossip: Unhealthy when the rounds are not running or every peer heard from is suspect
/// or dead; Degraded when no peer has been heard from (alone, or not yet joined); Healthy when at
/// least one peer is alive.
/// </summary>
internal sealed class GossipHealthCheck(GossipAdapter adapter) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        (int alive, int suspect, int dead) = adapter.PeerLiveness();
        var data = new Dictionary<string, object> { ["alive"] = alive, ["suspect"] = suspect, ["dead"] = dead };
        HealthCheckResult result =
            !adapter.IsRunning ? HealthCheckResult.Unhealthy("gossip rounds are not running (the adapter was not started, or was stopped)", data: data)
            : alive > 0 ? HealthCheckResult.Healthy($"{alive} of {alive + suspect + dead} peers alive", data)
            : suspect + dead > 0 ? HealthCheckResult.Unhealthy($"no peer alive ({suspect} suspect, {dead} dead)", data: data)
            : HealthCheckResult.Degraded("no peer heard from yet", data: data);
        return Task.FromResult(result);
    }
}

/// <summary>Adds CostModel's health checks to a host's health checks.</summary>
public static class CostModelHealthCheckExtensions
{
    /// <summary>The collector check's name.</summary>
    public const string CollectorCheckName = "costmodel-collector";

    /// <summary>The gossip check's name.</summary>
    public const string GossipCheckName = "costmodel-gossip";

    /// <summary>
    /// Adds <c>costmodel-collector</c> (a snapshot within three sample intervals) and, when
    /// <c>AddGossip()</c> was called, <c>costmodel-gossip</c> (the rounds run and a peer is alive).
    /// Call after <c>AddCostModel(...)</c>.
    /// </summary>
    /// <param name="builder">The host's health checks (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="tags">Tags for both checks (for filtering in a host's endpoints).</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddCostModelChecks(this IHealthChecksBuilder builder, params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddCheck<CollectorHealthCheck>(CollectorCheckName, tags: tags);
        if (builder.Services.Any(d => d.ServiceType == typeof(GossipAdapter)))
        {
            builder.AddCheck<GossipHealthCheck>(GossipCheckName, tags: tags);
        }

        return builder;
    }
}
