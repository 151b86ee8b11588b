using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// The network link on macOS: the primary interface from the SystemConfiguration dynamic store,
/// its receive and transmit rates from <c>sysctl NET_RT_IFLIST2</c>'s 64-bit counters, and whether
/// its path is metered (expensive or constrained) from a Network.framework path monitor. The OS
/// calls are <see cref="NativeNetworkSource"/> and <see cref="NativePathMonitor"/>; the logic is
/// <see cref="MacNetworkReader"/>. See docs/macos/network.md.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed class MacNetworkProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = MacNetworkReader.ProbeName;

    private readonly NativeNetworkSource _source;
    private readonly NativePathMonitor? _paths;
    private readonly MacNetworkReader _reader;

    /// <summary>Creates the probe (the constructor the container uses). Without a dynamic store it throws, and the group reads Unknown with the reason; without a path monitor only <c>Metered</c> does.</summary>
    public MacNetworkProbe(IProbeFailureReporter failures, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _source = new NativeNetworkSource();
        string? pathsError = null;
        try
        {
            _paths = new NativePathMonitor(timeProvider, failures);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            pathsError = $"the Network.framework path monitor could not start: {ex.GetType().Name}: {ex.Message}";
            failures.Report(ProbeName, "missing", pathsError);
        }

        _reader = new MacNetworkReader(_source, _paths, pathsError, failures);
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Network;

    public void Collect(SnapshotBuilder snapshot) => _reader.Collect(snapshot);

    public void Dispose()
    {
        _paths?.Dispose();
        _source.Dispose();
    }
}
