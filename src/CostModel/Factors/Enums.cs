namespace CostModel.Factors;

// Every enum here travels on the gossip wire and in JSON: values are append-only.

/// <summary>Where the node's power comes from right now.</summary>
public enum PowerSource : byte
{
    /// <summary>Mains power (AC adapter, USB-C power delivery, a desktop's supply).</summary>
    Mains = 1,

    /// <summary>The node's own battery.</summary>
    Battery = 2,

    /// <summary>An uninterruptible power supply after a mains failure.</summary>
    Ups = 3,
}

/// <summary>What the battery is doing.</summary>
public enum ChargeState : byte
{
    /// <summary>Energy flows into the battery.</summary>
    Charging = 1,

    /// <summary>Energy flows out of the battery.</summary>
    Discharging = 2,

    /// <summary>Full; on mains power.</summary>
    Full = 3,

    /// <summary>On mains power but not charging (charge limit reached, thermal hold).</summary>
    NotCharging = 4,
}

/// <summary>
/// Coarse thermal pressure, the same four levels as macOS's <c>NSProcessInfoThermalState</c>,
/// so every platform maps to one scale (the mapping per platform is in the docs).
/// </summary>
public enum ThermalLevel : byte
{
    /// <summary>No thermal pressure.</summary>
    Nominal = 1,

    /// <summary>Warm; fans up; no or little clock loss.</summary>
    Fair = 2,

    /// <summary>Throttling in progress; performance reduced.</summary>
    Serious = 3,

    /// <summary>At or near the critical trip point; work should move away.</summary>
    Critical = 4,
}

/// <summary>The maker of a GPU.</summary>
public enum GpuVendor : byte
{
    /// <summary>A vendor this library does not know.</summary>
    Other = 0,

    /// <summary>NVIDIA.</summary>
    Nvidia = 1,

    /// <summary>AMD.</summary>
    Amd = 2,

    /// <summary>Intel.</summary>
    Intel = 3,

    /// <summary>Apple silicon.</summary>
    Apple = 4,
}

/// <summary>Which cgroup layout the node's process lives in.</summary>
public enum CgroupLayout : byte
{
    /// <summary>No cgroup file system is mounted (macOS, Windows, some minimal systems).</summary>
    None = 0,

    /// <summary>cgroup v1: one hierarchy per controller.</summary>
    V1 = 1,

    /// <summary>cgroup v2: the unified hierarchy.</summary>
    V2 = 2,

    /// <summary>v1 controllers with v2 mounted beside them (usually at <c>/sys/fs/cgroup/unified</c>).</summary>
    Hybrid = 3,
}
