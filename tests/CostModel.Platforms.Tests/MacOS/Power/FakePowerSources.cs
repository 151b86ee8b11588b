using CostModel.Platforms.MacOS.Power;

namespace CostModel.Platforms.Tests.MacOS.Power;

/// <summary>
/// An <see cref="IMacPowerSources"/> that answers what a test or a fuzz input sets: the power sources'
/// descriptions, the providing type and the <c>AppleSmartBattery</c> entries, each list cut to what
/// the native layers read at most (<see cref="ListBound"/>). Shared by the platform tests and the
/// fuzzer's mac target (linked there).
/// </summary>
internal sealed class FakePowerSources : IMacPowerSources
{
    /// <summary>
    /// 16 entries: the most the native layers list (<c>NativePowerSources.MaxSources</c>,
    /// <c>IOKit.MaxServices</c>; both in macOS-only classes, so the value is repeated here).
    /// </summary>
    public const int ListBound = 16;

    /// <summary>The power sources' descriptions.</summary>
    public List<IReadOnlyDictionary<string, object>> Sources { get; set; } = [];

    /// <summary><c>IOPSGetProvidingPowerSourceType</c>.</summary>
    public string? ProvidingType { get; set; }

    /// <summary>The <c>AppleSmartBattery</c> entries.</summary>
    public List<IReadOnlyDictionary<string, object>> SmartBatteries { get; set; } = [];

    /// <summary>Thrown by <see cref="ReadPowerSources"/> when set.</summary>
    public Exception? SourcesFailure { get; set; }

    /// <summary>Thrown by <see cref="ReadSmartBatteries"/> when set.</summary>
    public Exception? SmartBatteryFailure { get; set; }

    /// <summary>How many times the battery entries were read.</summary>
    public int SmartBatteryReads { get; private set; }

    /// <inheritdoc />
    public MacPowerSourceSnapshot ReadPowerSources() =>
        SourcesFailure is { } failure ? throw failure : new MacPowerSourceSnapshot([.. Sources.Take(ListBound)], ProvidingType);

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyDictionary<string, object>> ReadSmartBatteries()
    {
        SmartBatteryReads++;
        return SmartBatteryFailure is { } failure ? throw failure : [.. SmartBatteries.Take(ListBound)];
    }
}
