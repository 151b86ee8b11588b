namespace CostModel.Platforms.MacOS.Power;

/// <summary>
/// The macOS power information the power probe reads, as plain .NET values in the shape
/// <see cref="Native.CfConvert"/> produces (see <see cref="PropertyValues"/>), so that the logic
/// (<see cref="MacPowerReader"/>) is tested on readings recorded on real Macs.
/// </summary>
internal interface IMacPowerSources
{
    /// <summary>
    /// The IOKit power sources (IOPowerSources.h): the description dictionary of every source in
    /// <c>IOPSCopyPowerSourcesList</c> order, and <c>IOPSGetProvidingPowerSourceType</c>. Cheap:
    /// powerd keeps them in memory. Throws <see cref="IOException"/> when the snapshot cannot be
    /// had and <see cref="InvalidDataException"/> when a value crosses the conversion's bounds.
    /// </summary>
    MacPowerSourceSnapshot ReadPowerSources();

    /// <summary>
    /// The properties of every <c>AppleSmartBattery</c> registry entry (none on a desktop). A copy
    /// of about 70 keys out of the kernel, so it is read on a cadence. Throws like
    /// <see cref="Native.IOKit.ReadServices"/>.
    /// </summary>
    IReadOnlyList<IReadOnlyDictionary<string, object>> ReadSmartBatteries();
}

/// <summary>What the IOKit power sources say at one moment.</summary>
/// <param name="Sources">Each power source's description (IOPSKeys.h keys such as <c>Type</c>, <c>Power Source State</c>, <c>Current Capacity</c>), internal batteries, UPSes and anything else the OS lists.</param>
/// <param name="ProvidingType"><c>IOPSGetProvidingPowerSourceType</c>: "AC Power", "Battery Power", "UPS Power", or null when it gave nothing.</param>
internal sealed record MacPowerSourceSnapshot(IReadOnlyList<IReadOnlyDictionary<string, object>> Sources, string? ProvidingType);
