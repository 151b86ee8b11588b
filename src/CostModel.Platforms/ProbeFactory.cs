using System.Diagnostics.CodeAnalysis;
using CostModel.Collection;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms;

/// <summary>Builds each platform's probes so that a probe that cannot start never stops the collector from being built.</summary>
internal static class ProbeFactory
{
    /// <summary>The failure kind reported when a probe could not be constructed.</summary>
    internal const string InitFailedKind = "init-failed";

    /// <summary>Registers a probe as a singleton <see cref="ISignalProbe"/> built by <see cref="Create"/>; a host replaces it by registering another probe with the same name.</summary>
    internal static void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TProbe>(IServiceCollection services, string name, SignalGroup group)
        where TProbe : class, ISignalProbe =>
        services.AddSingleton<ISignalProbe>(provider =>
            Create(provider, name, group, static provider => ActivatorUtilities.CreateInstance<TProbe>(provider)));

    /// <summary>
    /// Builds a probe; when its constructor throws (it should not: discovery reports what it
    /// cannot read), the failure is reported and an <see cref="UnavailableProbe"/> takes its place,
    /// so that building the collector never fails because of a broken machine.
    /// </summary>
    internal static ISignalProbe Create(IServiceProvider services, string name, SignalGroup group, Func<IServiceProvider, ISignalProbe> factory)
    {
        try
        {
            return factory(services);
        }
#pragma warning disable CA1031 // A broken machine must not stop the collector from being built: the group reads Unknown with the reason.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            string reason = $"probe {name} could not start: {ex.GetType().Name}: {ex.Message}";
            services.GetRequiredService<IProbeFailureReporter>().Report(name, InitFailedKind, reason);
            return new UnavailableProbe(name, group, reason);
        }
    }
}

/// <summary>Stands in for a probe whose constructor failed: every reading of its group is Unknown with the reason.</summary>
/// <param name="name">The failed probe's name.</param>
/// <param name="group">The failed probe's group.</param>
/// <param name="reason">Why it could not start.</param>
internal sealed class UnavailableProbe(string name, SignalGroup group, string reason) : ISignalProbe
{
    public string Name { get; } = name;

    public SignalGroup Group { get; } = group;

    /// <summary>Why the probe could not start.</summary>
    public string Reason { get; } = reason;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        snapshot.SetUnknown(Group, Reason);
    }
}
