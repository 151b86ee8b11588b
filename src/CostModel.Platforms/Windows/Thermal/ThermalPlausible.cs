
namespace CostModel.Platforms.Windows.Thermal;

/// <summary>
/// The values <c>PROCESSOR_POWER_INFORMATION</c> can hold on a working machine; a value outside is
/// Unknown with the raw value in the reason (<see cref="Plausible.Reason"/>), reported with the kind
/// <see cref="Plausible.OutOfRangeKind"/>.
/// </summary>
internal static class ThermalPlausible
{
    /// <summary>
    /// <c>MaxMhz</c> and <c>MhzLimit</c>: 1 to 20 000 MHz. The fastest shipping CPUs boost to about
    /// 6.2 GHz and overclocking records with liquid helium stand near 9.1 GHz; 20 GHz is twice
    /// that. 0 is not a clock: a processor whose frequency Windows does not know (some VMs), or a
    /// limit of nothing, which a running processor cannot have.
    /// </summary>
    internal static readonly PlausibleRange ClockMhz = new(
        "processor clock", 1, 20_000, "MHz",
        "above 0 and at most 20 GHz, twice the overclocking record (about 9.1 GHz); shipping CPUs boost to about 6.2 GHz");

    /// <summary>
    /// The most logical processors the probe sizes its buffer for: 2 048, the most Windows Server
    /// supports since Windows Server 2022 (client editions support fewer); 48 KiB of entries. On a
    /// larger machine the buffer stops here and the reading carries the call's status.
    /// </summary>
    internal const int MaxProcessors = 2048;

    /// <summary>
    /// How many times a pass grows the buffer after <c>STATUS_BUFFER_TOO_SMALL</c>: 3. Each retry
    /// asks <c>GetActiveProcessorCount</c> again (processors added while running) and at least
    /// doubles the buffer, so three cover a machine eight times larger than at start; beyond that
    /// the reading is Unknown with the status, and the next pass tries again.
    /// </summary>
    internal const int MaxGrowthsPerPass = 3;
}
