namespace CostModel.Platforms.MacOS.Thermal;

/// <summary>
/// The CPU power status macOS publishes on Intel Macs (<c>IOPMCopyCPUPowerStatus</c>, IOPMLib.h),
/// as plain .NET values, so that <see cref="MacThermalReader"/> is tested without a Mac.
/// </summary>
internal interface IMacCpuPowerStatus
{
    /// <summary>True on Apple silicon (the OS's architecture, also under Rosetta), where no CPU power status is published.</summary>
    bool IsAppleSilicon { get; }

    /// <summary>
    /// <c>IOPMCopyCPUPowerStatus</c>: the dictionary (<c>CPU_Speed_Limit</c>, <c>CPU_Available_CPUs</c>,
    /// <c>CPU_Scheduler_Limit</c>) with <c>IOReturn</c> 0, or no dictionary with the <c>IOReturn</c>
    /// it failed with. Throws <see cref="InvalidDataException"/> when a value crosses the conversion's bounds.
    /// </summary>
    CpuPowerStatus Read();
}

/// <summary>What <c>IOPMCopyCPUPowerStatus</c> returned.</summary>
/// <param name="Status">The status dictionary, or null.</param>
/// <param name="IOReturn">The call's <c>IOReturn</c> (0 is <c>kIOReturnSuccess</c>).</param>
internal sealed record CpuPowerStatus(IReadOnlyDictionary<string, object>? Status, int IOReturn);
