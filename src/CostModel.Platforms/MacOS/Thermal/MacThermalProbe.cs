using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Platforms.MacOS.Native;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Thermal;

/// <summary>
/// Thermal level and CPU speed limit on macOS: <c>NSProcessInfo.thermalState</c> through the
/// Objective-C runtime and, on Intel Macs, <c>IOPMCopyCPUPowerStatus</c>. The calls are in
/// <see cref="NativeProcessInfo"/> and <see cref="NativeCpuPowerStatus"/>; every rule is in
/// <see cref="MacThermalReader"/> and docs/macos/thermal.md.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed class MacThermalProbe : ISignalProbe
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "macos.thermal";

    private readonly MacThermalReader _reader;

    public MacThermalProbe(IProbeFailureReporter failures) =>
        _reader = new MacThermalReader(new NativeProcessInfo(), new NativeCpuPowerStatus(), failures, ProbeName);

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Thermal;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        snapshot.Thermal = _reader.Read(snapshot.TimeProvider);
    }
}
