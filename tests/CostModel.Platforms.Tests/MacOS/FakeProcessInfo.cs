using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.Tests.MacOS;

/// <summary>
/// An <see cref="IMacProcessInfo"/> that answers what a test or a fuzz input sets: Low Power Mode and
/// the thermal state. Shared by the platform tests and the fuzzer's mac target (linked there).
/// </summary>
internal sealed class FakeProcessInfo : IMacProcessInfo
{
    /// <summary><c>isLowPowerModeEnabled</c>; null where not implemented.</summary>
    public bool? LowPowerMode { get; set; }

    /// <summary><c>thermalState</c>; null where not implemented.</summary>
    public long? Thermal { get; set; }

    /// <summary>Thrown by both reads when set.</summary>
    public Exception? Failure { get; set; }

    /// <inheritdoc />
    public bool? IsLowPowerModeEnabled() => Failure is { } failure ? throw failure : LowPowerMode;

    /// <inheritdoc />
    public long? ThermalState() => Failure is { } failure ? throw failure : Thermal;
}
