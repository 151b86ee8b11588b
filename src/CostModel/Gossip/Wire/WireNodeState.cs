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

/// <summary>One age per factor group, as the wire carries it (a <see cref="WireFormat.EncodeAge"/> byte each).</summary>
[InlineArray(WireNodeState.GroupCount)]
internal struct WireGroupAges
{
    private byte _element;
}

/// <summary>
/// A node's routing factors at wire precision: what one gossip state record carries, without the
/// node id. Values are kept quantised (as they travel), so relaying a state re-encodes exactly what
/// was received; <see cref="WireQuantizer"/> converts to and from <see cref="NodeCostFactors"/>.
/// An unmanaged struct: merging a received state into a known node copies it, allocating nothing.
/// </summary>
/// <remarks>
/// The groups' observation times are kept as they arrive, as the time of arrival and one age byte
/// per group (<see cref="ObservedTicks"/> computes them), not as one time per group: the times carry
/// nothing more, and each node of a simulated 1,000-node mesh keeps a state for every other (48 bytes
/// a state, 48 MB in all). This node's own state, whose times are exact, is a <see cref="WireOwnState"/>.
/// </remarks>
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

    /// <summary>When the state was received (UTC ticks on this node's clock): the time its <see cref="Ages"/> count back from.</summary>
    public long ReceivedTicks;

    public WireQualities Qualities;

    /// <summary>Each group's age as received, counted back from <see cref="ReceivedTicks"/>.</summary>
    public WireGroupAges Ages;

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

    /// <summary>
    /// When a group was observed (UTC ticks on this node's clock): the time of arrival less the
    /// group's age (the upper end of the age's step, so a value never reads fresher than it is).
    /// </summary>
    /// <param name="group">The group (a <see cref="WireGroup"/>).</param>
    /// <returns>The observation time.</returns>
    public readonly long ObservedTicks(int group) => ReceivedTicks - WireFormat.DecodeAge(Ages[group]);

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

/// <summary>
/// This node's own state as it publishes it: the state at wire precision and the exact time each
/// group was observed. Each write computes the ages afresh from these times, as a received state's
/// arrival time and age bytes (<see cref="WireNodeState.ObservedTicks"/>) could not: ages round up to
/// 0.1 s steps, so the own state's times rounded once would change what later writes send.
/// </summary>
internal struct WireOwnState
{
    /// <summary>The state; its <see cref="WireNodeState.ReceivedTicks"/> and <see cref="WireNodeState.Ages"/> stay zero (it was not received).</summary>
    public WireNodeState State;

    /// <summary>When each group was observed (UTC ticks on this node's clock): its oldest carried reading's time, else the capture time.</summary>
    public WireGroupTicks ObservedTicks;
}
