using System.Runtime.CompilerServices;
using CostModel.Factors;

namespace CostModel.Gossip.Wire;

/// <summary>The readings that travel on the wire, in wire order. Append-only.</summary>
internal enum WireReading
{
    PowerSource = 0,
    ChargeState = 1,
    BatteryCount = 2,
    BatteryPercent = 3,
    BatteryRateWatts = 4,
    CpuUtilization = 5,
    MemoryPressure = 6,
    GpuCount = 7,
    GpuBusiestUtilization = 8,
    GpuTotalWatts = 9,
    ThermalLevel = 10,
    ThrottleRatio = 11,
    HottestCelsius = 12,
    Metered = 13,
    BandwidthBitsPerSecond = 14,
    CpuLimitCores = 15,
    QueueDepth = 16,
    InFlight = 17,
    BatteryPercentPerHour = 18,
    LoadSlopePerMinute = 19,
    EnergySaver = 20,
    ArrivalsPerSecond = 21,
    RoutedPerSecond = 22,
}

/// <summary>The factor groups whose ages travel on the wire, in wire order. Append-only.</summary>
internal enum WireGroup
{
    Power = 0,
    Compute = 1,
    Gpu = 2,
    Thermal = 3,
    Network = 4,
    Container = 5,
    Pending = 6,
    Trends = 7,
}

/// <summary>One quality per wire reading (a <see cref="SignalQuality"/> each).</summary>
[InlineArray(WireNodeState.ReadingCount)]
internal struct WireQualities
{
    private SignalQuality _element;
}

/// <summary>One observation time per factor group, in UTC ticks on this node's clock (0 = none).</summary>
[InlineArray(WireNodeState.GroupCount)]
internal struct WireGroupTicks
{
    private long _element;
}

/// <summary>
/// A node's routing factors at wire precision: what one gossip state record carries, without the
/// node id. Values are kept quantised (as they travel), so relaying a state re-encodes exactly what
/// was received; <see cref="WireQuantizer"/> converts to and from <see cref="NodeCostFactors"/>.
/// An unmanaged struct: merging a received state into a known node copies it, allocating nothing.
/// </summary>
internal struct WireNodeState
{
    /// <summary>Readings on the wire.</summary>
    public const int ReadingCount = 23;

    /// <summary>Readings whose quality travels in the nibbles after the versions; the later ones' qualities follow the values they were appended to.</summary>
    public const int HeadReadingCount = 22;

    /// <summary>Factor groups on the wire.</summary>
    public const int GroupCount = 8;

    public long Generation;
    public long Version;
    public long CapabilitiesVersion;
    public WireQualities Qualities;

    /// <summary>When each group was observed, on this node's clock (computed from the ages on receipt).</summary>
    public WireGroupTicks ObservedTicks;

    public byte PowerSource;
    public byte ChargeState;
    public byte BatteryCount;
    public ushort BatteryHundredthsPercent;
    public Half BatteryRateWatts;
    public ushort CpuUtilization;
    public byte MemoryPressure;
    public byte GpuCount;
    public ushort GpuBusiestUtilization;
    public Half GpuTotalWatts;
    public byte ThermalLevel;
    public ushort ThrottleRatio;
    public byte HottestCelsiusOffset;
    public bool Metered;
    public Half BandwidthMegabitsPerSecond;
    public Half CpuLimitCores;
    public ushort QueueDepth;
    public ushort InFlight;
    public Half BatteryPercentPerHour;
    public Half LoadSlopePerMinute;
    public bool EnergySaver;
    public Half ArrivalsPerSecond;
    public Half RoutedPerSecond;

    /// <summary>The group each reading's age comes from.</summary>
    public static WireGroup GroupOf(WireReading reading) => reading switch
    {
        WireReading.EnergySaver => WireGroup.Power,
        WireReading.ArrivalsPerSecond or WireReading.RoutedPerSecond => WireGroup.Pending,
        <= WireReading.BatteryRateWatts => WireGroup.Power,
        <= WireReading.MemoryPressure => WireGroup.Compute,
        <= WireReading.GpuTotalWatts => WireGroup.Gpu,
        <= WireReading.HottestCelsius => WireGroup.Thermal,
        <= WireReading.BandwidthBitsPerSecond => WireGroup.Network,
        WireReading.CpuLimitCores => WireGroup.Container,
        <= WireReading.InFlight => WireGroup.Pending,
        _ => WireGroup.Trends,
    };
}
