using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Thermal;

/// <summary>
/// The raw Win32 answers the thermal probe reads, behind a seam so that its arithmetic is tested on
/// every OS with faked structures (<see cref="Win32ProcessorPowerApi"/> is the real one).
/// </summary>
internal interface IProcessorPowerApi
{
    /// <summary><c>GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)</c>: the logical processors of every group; false with the Win32 error when it fails.</summary>
    bool TryGetActiveProcessorCount(out int count, out int error);

    /// <summary>
    /// <c>CallNtPowerInformation(ProcessorInformation)</c> into <paramref name="buffer"/>: the NTSTATUS
    /// it returns (0 on success; <c>STATUS_BUFFER_TOO_SMALL</c> when the buffer holds fewer entries
    /// than there are processors). Entries past the processors it knows are left as they were.
    /// </summary>
    int GetProcessorInformation(Span<ProcessorPowerInformation> buffer);
}

/// <summary><c>PROCESSOR_POWER_INFORMATION</c> (powerbase.h, 24 bytes): one logical processor's clock, in MHz.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ProcessorPowerInformation
{
    /// <summary>The processor's number (0-based, across all processor groups).</summary>
    public uint Number;

    /// <summary>The maximum specified clock frequency (the rated, not the turbo, frequency on most machines).</summary>
    public uint MaxMhz;

    /// <summary>The current clock frequency (often the rated frequency whatever the clock does; not used).</summary>
    public uint CurrentMhz;

    /// <summary>The limit on the clock: <see cref="MaxMhz"/> times the current thermal or power throttle limit.</summary>
    public uint MhzLimit;

    /// <summary>The deepest idle state (C-state) the processor supports (not used).</summary>
    public uint MaxIdleState;

    /// <summary>The idle state the processor is in (not used).</summary>
    public uint CurrentIdleState;
}
