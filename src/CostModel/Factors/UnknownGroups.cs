namespace CostModel.Factors;

/// <summary>Whole factor groups whose every reading is Unknown for one reason (a probe that failed).</summary>
internal static class UnknownGroups
{
    public static PowerFactors Power(string reason, DateTimeOffset? at) => new()
    {
        Source = Reading.Unknown<PowerSource>(reason, at),
        BatteryCount = Reading.Unknown<int>(reason, at),
        BatteryPercent = Reading.Unknown<double>(reason, at),
        ChargeState = Reading.Unknown<ChargeState>(reason, at),
        BatteryRateWatts = Reading.Unknown<double>(reason, at),
        RemainingWattHours = Reading.Unknown<double>(reason, at),
        FullWattHours = Reading.Unknown<double>(reason, at),
        TimeToEmptySeconds = Reading.Unknown<double>(reason, at),
        TimeToFullSeconds = Reading.Unknown<double>(reason, at),
        EnergySaver = Reading.Unknown<bool>(reason, at),
    };

    public static ComputeFactors Compute(string reason, DateTimeOffset? at) => new()
    {
        CpuUtilization = Reading.Unknown<double>(reason, at),
        EffectiveCores = Reading.Unknown<double>(reason, at),
        LoadPerCore = Reading.Unknown<double>(reason, at),
        CpuPressure = Reading.Unknown<double>(reason, at),
        MemoryPressure = Reading.Unknown<double>(reason, at),
        MemoryUsedBytes = Reading.Unknown<long>(reason, at),
        MemoryAvailableBytes = Reading.Unknown<long>(reason, at),
        MemoryTotalBytes = Reading.Unknown<long>(reason, at),
    };

    public static GpuFactors Gpu(string reason, DateTimeOffset? at) => new() { DeviceCount = Reading.Unknown<int>(reason, at) };

    public static ThermalFactors Thermal(string reason, DateTimeOffset? at) => new()
    {
        Level = Reading.Unknown<ThermalLevel>(reason, at),
        ThrottleRatio = Reading.Unknown<double>(reason, at),
        HottestCelsius = Reading.Unknown<double>(reason, at),
        ThrottleEvents = Reading.Unknown<long>(reason, at),
    };

    public static NetworkFactors Network(string reason, DateTimeOffset? at) => new()
    {
        Metered = Reading.Unknown<bool>(reason, at),
        ReceiveBytesPerSecond = Reading.Unknown<double>(reason, at),
        TransmitBytesPerSecond = Reading.Unknown<double>(reason, at),
        BandwidthBitsPerSecond = Reading.Unknown<double>(reason, at),
    };

    public static ContainerFactors Container(string reason, DateTimeOffset? at) => new()
    {
        CpuLimitCores = Reading.Unknown<ResourceLimit>(reason, at),
        MemoryLimitBytes = Reading.Unknown<ResourceLimit>(reason, at),
        MemoryWorkingSetBytes = Reading.Unknown<long>(reason, at),
        ThrottledPeriods = Reading.Unknown<long>(reason, at),
        ThrottledShare = Reading.Unknown<double>(reason, at),
    };

    public static PendingWork Pending(string reason, DateTimeOffset? at) => new()
    {
        QueueDepth = Reading.Unknown<int>(reason, at),
        InFlight = Reading.Unknown<int>(reason, at),
    };
}
