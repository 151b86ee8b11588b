using System.Diagnostics.Metrics;
using CostModel.DependencyInjection;
using CostModel.Gossip;
using CostModel.Gossip.Nats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the NATS gossip transport.</summary>
public static class NatsGossipServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NATS transport for the gossip adapter (call after <c>AddGossip()</c>): its options
    /// bound from <paramref name="configuration"/> (default: <c>Gossip:Nats</c> below the section
    /// given to <c>AddCostModel</c>, that is <c>CostModel:Gossip:Nats</c>) and validated at start,
    /// with the adapter's (it must push: the transport runs no rounds); in a Generic Host a hosted
    /// service connects after the adapter starts and disconnects at shutdown. Its counters go on the
    /// <c>CostModel</c> meter. Unless configured, the mesh token is the adapter's cluster id (when it
    /// is a valid subject token) and the key-value entries live the adapter's dead-after time.
    /// </summary>
    /// <param name="builder">The CostModel builder.</param>
    /// <param name="configuration">The section to bind <see cref="NatsGossipOptions"/> from; null for the default above (or none when the library is configured in code).</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddNatsGossipTransport(this ICostModelBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        OptionsBuilder<NatsGossipOptions> options = services.AddOptions<NatsGossipOptions>();
        if ((configuration ?? builder.Configuration?.GetSection(NatsGossipOptions.SectionName)) is { } section)
        {
            options.Bind(section);
        }

        options.PostConfigure<IOptions<GossipOptions>>(static (o, gossip) =>
        {
            // Left at their defaults, they follow the adapter: one name for the mesh, one lifetime for a silent node.
            if (string.Equals(o.Mesh, NatsGossipOptions.DefaultMesh, StringComparison.Ordinal) && Subjects.IsToken(gossip.Value.ClusterId))
            {
                o.Mesh = gossip.Value.ClusterId;
            }

            if (o.KeyValueTtl == NatsGossipOptions.DefaultKeyValueTtl)
            {
                o.KeyValueTtl = gossip.Value.DeadAfter;
            }
        });
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NatsGossipOptions>, NatsGossipOptionsValidator>());
        builder
            .FixAtStart<NatsGossipOptions>("CostModel:Gossip:Nats:Url", o => o.Url, (o, v) => o.Url = (string)v!)
            .FixAtStart<NatsGossipOptions>("CostModel:Gossip:Nats:Mesh", o => o.Mesh, (o, v) => o.Mesh = (string)v!);
        services.TryAddSingleton(sp => new NatsGossipTransport(
            sp.GetRequiredService<IGossipAdapter>(),
            sp.GetRequiredService<IOptions<NatsGossipOptions>>().Value,
            sp.GetService<ILogger<NatsGossipTransport>>(),
            sp.GetService<IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<NatsGossipTransportHostedService>();
        return builder;
    }
}

/// <summary>Validates <see cref="NatsGossipOptions"/> at start with the transport's own checks, and that the adapter pushes, reporting every failure.</summary>
internal sealed class NatsGossipOptionsValidator(IOptions<GossipOptions> gossip) : IValidateOptions<NatsGossipOptions>
{
    public ValidateOptionsResult Validate(string? name, NatsGossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            failures.Add($"CostModel:Gossip:Nats: {ex.Message}");
        }

        if (gossip.Value.Dissemination != GossipDissemination.Push)
        {
            failures.Add("CostModel:Gossip:Dissemination must be Push with the NATS transport: it publishes what the adapter pushes and runs no rounds of its own.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Starts the NATS transport with the host (after the gossip adapter, which <c>AddGossip()</c> registered first) and closes it at shutdown.</summary>
internal sealed class NatsGossipTransportHostedService(NatsGossipTransport transport, IOptions<GossipOptions> gossip, ILogger<NatsGossipTransportHostedService>? logger = null) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (gossip.Value.RetransmitMultiplier > 0)
        {
            NatsHostLog.RelaysThroughBroker(logger ?? (ILogger)NullLogger.Instance, gossip.Value.RetransmitMultiplier);
        }

        return transport.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await transport.DisposeAsync().ConfigureAwait(false);
}

/// <summary>The hosted service's log line.</summary>
internal static partial class NatsHostLog
{
    [LoggerMessage(EventId = 4620, Level = LogLevel.Warning, Message = "CostModel:Gossip:RetransmitMultiplier is {Multiplier}: every node relays what it hears, and the NATS server delivers each relay to every node, multiplying the traffic by the mesh's size for nothing. Set it to 0 with the NATS transport")]
    public static partial void RelaysThroughBroker(ILogger logger, int multiplier);
}
