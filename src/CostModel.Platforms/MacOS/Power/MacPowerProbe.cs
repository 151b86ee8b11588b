using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Platforms.MacOS.Native;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Power;

/// <summary>
/// Power source, batteries and Low Power Mode on macOS: the IOKit power sources
/// (IOPowerSources.h), the <c>AppleSmartBattery</c> registry entry and
/// <c>NSProcessInfo.isLowPowerModeEnabled</c>. The calls are in <see cref="NativePowerSources"/>
/// and <see cref="NativeProcessInfo"/>; every rule is in <see cref="MacPowerReader"/> and
/// docs/macos/power.md.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed class MacPowerProbe : ISignalProbe
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "macos.power";

    private readonly MacPowerReader _reader;

    public MacPowerProbe(IProbeFailureReporter failures) =>
        _reader = new MacPowerReader(new NativePowerSources(), new NativeProcessInfo(), failures, ProbeName);

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Power;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        snapshot.Power = _reader.Read(snapshot.TimeProvider);
    }
}
