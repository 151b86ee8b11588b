using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Power;

/// <summary>
/// The two raw Win32 answers the power probe reads, behind a seam so that its mapping is tested
/// on every OS with faked structures (<see cref="Win32PowerApi"/> is the real one).
/// </summary>
internal interface IWindowsPowerApi
{
    /// <summary><c>GetSystemPowerStatus</c> (kernel32): false with the call's Win32 error code when it fails.</summary>
    bool TryGetSystemPowerStatus(out SystemPowerStatus status, out int error);

    /// <summary><c>CallNtPowerInformation(SystemBatteryState)</c> (powrprof): the NTSTATUS it returns (0, STATUS_SUCCESS, when the structure was filled).</summary>
    int GetSystemBatteryState(out SystemBatteryState state);
}

/// <summary>
/// <c>SYSTEM_POWER_STATUS</c> (winbase.h), 12 bytes: the power status the Windows battery meter
/// shows. 255 (or 0xFFFFFFFF for the times) means unknown.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SystemPowerStatus
{
    /// <summary>0 offline, 1 online, 2 backup power (<c>AC_LINE_BACKUP_POWER</c>), 255 unknown.</summary>
    public byte ACLineStatus;

    /// <summary>Bits 1 high (over 66 %), 2 low (under 33 %), 4 critical (under 5 %), 8 charging; 128 no system battery; 255 unknown; 0 between low and high, or not determined.</summary>
    public byte BatteryFlag;

    /// <summary>0 to 100 %, 255 unknown.</summary>
    public byte BatteryLifePercent;

    /// <summary>Windows 10 and later: 1 while battery saver is on, 0 while it is off (was Reserved1).</summary>
    public byte SystemStatusFlag;

    /// <summary>Seconds of battery life left, 0xFFFFFFFF unknown or on AC power.</summary>
    public uint BatteryLifeTime;

    /// <summary>Seconds of battery life on a full charge, 0xFFFFFFFF unknown.</summary>
    public uint BatteryFullLifeTime;
}

/// <summary>
/// <c>SYSTEM_BATTERY_STATE</c> (winnt.h), 32 bytes: Windows' composite battery (every system
/// battery summed into one), capacities in mWh, the rate in mW (negative while discharging),
/// times in seconds; 0xFFFFFFFF is unknown, <c>BATTERY_UNKNOWN_RATE</c> (0x80000000) an unknown rate.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SystemBatteryState
{
    /// <summary>BOOLEAN: the system is on AC power.</summary>
    public byte AcOnLine;

    /// <summary>BOOLEAN: at least one system battery is present.</summary>
    public byte BatteryPresent;

    /// <summary>BOOLEAN: a battery is charging.</summary>
    public byte Charging;

    /// <summary>BOOLEAN: a battery is discharging.</summary>
    public byte Discharging;

    /// <summary>Spare1[0..2] and Tag: unused here.</summary>
    public uint SpareAndTag;

    /// <summary>Full charge capacity, in mWh (in relative units for a battery that reports <c>BATTERY_CAPACITY_RELATIVE</c>).</summary>
    public uint MaxCapacity;

    /// <summary>Remaining capacity, in mWh (same units as <see cref="MaxCapacity"/>).</summary>
    public uint RemainingCapacity;

    /// <summary>Charge (positive) or discharge (negative) rate, in mW; <c>BATTERY_UNKNOWN_RATE</c> when unknown.</summary>
    public int Rate;

    /// <summary>Seconds until empty, Windows' own estimate; 0xFFFFFFFF unknown.</summary>
    public uint EstimatedTime;

    /// <summary>Low-battery alert level, in mWh: unused here.</summary>
    public uint DefaultAlert1;

    /// <summary>Critical-battery alert level, in mWh: unused here.</summary>
    public uint DefaultAlert2;
}
