using System.Diagnostics.Metrics;
using CostModel.DependencyInjection;
using CostModel.Gossip;
using CostModel.Gossip.Udp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the reference UDP gossip transport.</summary>
public static class UdpGossipServiceCollectionExtensions
{
    /// <summary>
    /// Adds the UDP transport for the gossip adapter (call after <c>AddGossip()</c>): its options
    /// bound from <paramref name="configuration"/> (default: <c>Gossip:Udp</c> below the section
    /// given to <c>AddCostModel</c>, that is <c>CostModel:Gossip:Udp</c>) and validated at start;
    /// in a Generic Host a hosted service binds the socket, starts it after the adapter and stops it
    /// at shutdown. Its counters go on the <c>CostModel</c> meter. The bind address, port, MTU and
    /// table sizes are fixed at start (a reload that changes them is refused and logged).
    /// </summary>
    /// <param name="builder">The CostModel builder.</param>
    /// <param name="configuration">The section to bind <see cref="UdpGossipOptions"/> from; null for the default above (or none when the library is configured in code).</param>
    /// <returns>The builder.</returns>
    public static ICostModelBuilder AddUdpGossipTransport(this ICostModelBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        OptionsBuilder<UdpGossipOptions> options = services.AddOptions<UdpGossipOptions>();
        if ((configuration ?? builder.Configuration?.GetSection(UdpGossipOptions.SectionName)) is { } section)
        {
            options.Bind(section);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UdpGossipOptions>, UdpGossipOptionsValidator>());
        builder
            .FixAtStart<UdpGossipOptions>("CostModel:Gossip:Udp:BindAddress", o => o.BindAddress, (o, v) => o.BindAddress = (string)v!)
            .FixAtStart<UdpGossipOptions>("CostModel:Gossip:Udp:Port", o => o.Port, (o, v) => o.Port = (int)v!)
            .FixAtStart<UdpGossipOptions>("CostModel:Gossip:Udp:Mtu", o => o.Mtu, (o, v) => o.Mtu = (int)v!)
            .FixAtStart<UdpGossipOptions>("CostModel:Gossip:Udp:MaxQueuedDatagrams", o => o.MaxQueuedDatagrams, (o, v) => o.MaxQueuedDatagrams = (int)v!)
            .FixAtStart<UdpGossipOptions>("CostModel:Gossip:Udp:MaxPeers", o => o.MaxPeers, (o, v) => o.MaxPeers = (int)v!);
        services.TryAddSingleton(sp => new UdpGossipTransport(
            sp.GetRequiredService<IGossipAdapter>(),
            sp.GetRequiredService<IOptions<UdpGossipOptions>>().Value,
            sp.GetService<ILogger<UdpGossipTransport>>(),
            sp.GetService<IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<UdpGossipTransportHostedService>();
        return builder;
    }
}

/// <summary>Validates <see cref="UdpGossipOptions"/> at start with the transport's own checks, reporting every failure.</summary>
internal sealed class UdpGossipOptionsValidator : IValidateOptions<UdpGossipOptions>
{
    public ValidateOptionsResult Validate(string? name, UdpGossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"CostModel:Gossip:Udp: {ex.Message}");
        }
    }
}

/// <summary>Starts the UDP transport with the host (after the gossip adapter, which <c>AddGossip()</c> registered first) and closes it at shutdown.</summary>
internal sealed class UdpGossipTransportHostedService(UdpGossipTransport transport) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => transport.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken) => await transport.DisposeAsync().ConfigureAwait(false);
}
