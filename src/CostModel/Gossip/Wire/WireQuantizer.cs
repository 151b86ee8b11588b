using System.Collections.Immutable;
using CostModel.Factors;

namespace CostModel.Gossip.Wire;

/// <summary>
/// Converts <see cref="NodeCostFactors"/> to a <see cref="WireOwnState"/> and a received
/// <see cref="WireNodeState"/> back to <see cref="NodeCostFactors"/>: the precision
/// each reading keeps on the wire is decided here and documented in docs/gossip-wire-format.md.
/// </summary>
internal static class WireQuantizer
{
    /// <summary>The source note of every reading received by gossip.</summary>
    public const string GossipSource = "gossip";

    /// <summary>The reason of a reading the node itself reported unknown.</summary>
    public const string UnknownAtNode = "unknown at the node (gossip)";

    /// <summary>The reason of a reading the node cannot measure.</summary>
    public const string NotSupportedAtNode = "not supported at the node (gossip)";

    /// <summary>The name of the one device standing for a node's GPUs after gossip.</summary>
    public const string GpuAggregateName = "all GPUs of the node (gossip aggregate)";

    /// <summary>Offset of the hottest-temperature byte: raw = degrees Celsius + 55, so -55..150 C fits one byte.</summary>
    public const int CelsiusOffset = 55;

    private const double HalfMax = 65_504;
    private const double BitsPerMegabit = 1e6;

    /// <summary>Quantises a snapshot (this node's, or one materialised from the wire), keeping each group's observation time exact.</summary>
    public static void FromFactors(NodeCostFactors f, long capabilitiesVersion, ref WireOwnState own)
    {
        own = default;
        ref WireNodeState s = ref own.State;
        s.Generation = f.Generation;
        s.Version = f.Version;
        s.CapabilitiesVersion = capabilitiesVersion;

        PowerFactors p = f.Power;
        if (Take(ref own, WireReading.PowerSource, p.Source)) { s.PowerSource = (byte)p.Source.RawValue; }
        if (Take(ref own, WireReading.ChargeState, p.ChargeState)) { s.ChargeState = (byte)p.ChargeState.RawValue; }
        if (Take(ref own, WireReading.BatteryCount, p.BatteryCount)) { s.BatteryCount = (byte)Math.Min(p.BatteryCount.RawValue, byte.MaxValue); }
        if (Take(ref own, WireReading.BatteryPercent, p.BatteryPercent)) { s.BatteryHundredthsPercent = (ushort)Math.Round(p.BatteryPercent.RawValue * 100); }
        if (Take(ref own, WireReading.BatteryRateWatts, p.BatteryRateWatts)) { s.BatteryRateWatts = ToHalf(p.BatteryRateWatts.RawValue); }
        if (Take(ref own, WireReading.EnergySaver, p.EnergySaver)) { s.EnergySaver = p.EnergySaver.RawValue; }

        if (Take(ref own, WireReading.CpuUtilization, f.Compute.CpuUtilization)) { s.CpuUtilization = Fraction16(f.Compute.CpuUtilization.RawValue); }
        if (Take(ref own, WireReading.MemoryPressure, f.Compute.MemoryPressure)) { s.MemoryPressure = Fraction8(f.Compute.MemoryPressure.RawValue); }

        GpuFactors g = f.Gpu;
        if (Take(ref own, WireReading.GpuCount, g.DeviceCount)) { s.GpuCount = (byte)Math.Min(g.DeviceCount.RawValue, byte.MaxValue); }
        AggregateGpus(g, ref own);

        ThermalFactors t = f.Thermal;
        if (Take(ref own, WireReading.ThermalLevel, t.Level)) { s.ThermalLevel = (byte)t.Level.RawValue; }
        if (Take(ref own, WireReading.ThrottleRatio, t.ThrottleRatio)) { s.ThrottleRatio = Fraction16(t.ThrottleRatio.RawValue); }
        if (Take(ref own, WireReading.HottestCelsius, t.HottestCelsius)) { s.HottestCelsiusOffset = (byte)Math.Clamp(Math.Round(t.HottestCelsius.RawValue) + CelsiusOffset, 0, byte.MaxValue); }

        if (Take(ref own, WireReading.Metered, f.Network.Metered)) { s.Metered = f.Network.Metered.RawValue; }
        if (Take(ref own, WireReading.BandwidthBitsPerSecond, f.Network.BandwidthBitsPerSecond)) { s.BandwidthMegabitsPerSecond = ToHalf(f.Network.BandwidthBitsPerSecond.RawValue / BitsPerMegabit); }

        Reading<ResourceLimit> cpuLimit = f.Container.CpuLimitCores;
        if (Take(ref own, WireReading.CpuLimitCores, cpuLimit))
        {
            // A finite limit never rounds to 0 (which would read as no limit at all): the smallest binary16 step stands for anything below it.
            s.CpuLimitCores = cpuLimit.RawValue.IsUnlimited ? Half.PositiveInfinity : ToHalf(Math.Max(cpuLimit.RawValue.Amount, (double)Half.Epsilon));
        }

        if (Take(ref own, WireReading.QueueDepth, f.Pending.QueueDepth)) { s.QueueDepth = (ushort)Math.Min(f.Pending.QueueDepth.RawValue, ushort.MaxValue); }
        if (Take(ref own, WireReading.InFlight, f.Pending.InFlight)) { s.InFlight = (ushort)Math.Min(f.Pending.InFlight.RawValue, ushort.MaxValue); }
        if (Take(ref own, WireReading.ArrivalsPerSecond, f.Pending.ArrivalsPerSecond)) { s.ArrivalsPerSecond = ToHalf(f.Pending.ArrivalsPerSecond.RawValue); }
        if (Take(ref own, WireReading.RoutedPerSecond, f.Pending.RoutedPerSecond)) { s.RoutedPerSecond = ToHalf(f.Pending.RoutedPerSecond.RawValue); }

        if (Take(ref own, WireReading.BatteryPercentPerHour, f.Trends.BatteryPercentPerHour)) { s.BatteryPercentPerHour = ToHalf(f.Trends.BatteryPercentPerHour.RawValue); }
        if (Take(ref own, WireReading.LoadSlopePerMinute, f.Trends.LoadSlopePerMinute)) { s.LoadSlopePerMinute = ToHalf(f.Trends.LoadSlopePerMinute.RawValue); }

        // A group's age is its oldest carried reading's: the receiver never sees a value as fresher than it is.
        long captured = f.CapturedAt.UtcTicks;
        for (int group = 0; group < WireNodeState.GroupCount; group++)
        {
            if (own.ObservedTicks[group] == 0)
            {
                own.ObservedTicks[group] = captured;
            }
        }
    }

    /// <summary>When the newest of a state's groups was observed (UTC ticks on this node's clock): when the state was captured.</summary>
    public static long NewestObservation(in WireNodeState s)
    {
        long newest = 0;
        for (int group = 0; group < WireNodeState.GroupCount; group++)
        {
            newest = Math.Max(newest, s.ObservedTicks(group));
        }

        return newest;
    }

    /// <summary>Builds the immutable snapshot the router reads from a wire state (allocates: done when the view is read, not on receipt).</summary>
    public static NodeCostFactors ToFactors(string nodeId, in WireNodeState s)
    {
        return new NodeCostFactors(nodeId, s.Generation, s.Version, new DateTimeOffset(NewestObservation(s), TimeSpan.Zero))
        {
            Power = new PowerFactors
            {
                Source = Make(s, WireReading.PowerSource, (PowerSource)s.PowerSource),
                ChargeState = Make(s, WireReading.ChargeState, (ChargeState)s.ChargeState),
                BatteryCount = Make(s, WireReading.BatteryCount, (int)s.BatteryCount),
                BatteryPercent = Make(s, WireReading.BatteryPercent, s.BatteryHundredthsPercent / 100.0),
                BatteryRateWatts = Make(s, WireReading.BatteryRateWatts, (double)s.BatteryRateWatts),
                EnergySaver = Make(s, WireReading.EnergySaver, s.EnergySaver),
            },
            Compute = new ComputeFactors
            {
                CpuUtilization = Make(s, WireReading.CpuUtilization, s.CpuUtilization / (double)ushort.MaxValue),
                MemoryPressure = Make(s, WireReading.MemoryPressure, s.MemoryPressure / (double)byte.MaxValue),
            },
            Gpu = GpusFrom(s),
            Thermal = new ThermalFactors
            {
                Level = Make(s, WireReading.ThermalLevel, (ThermalLevel)s.ThermalLevel),
                ThrottleRatio = Make(s, WireReading.ThrottleRatio, s.ThrottleRatio / (double)ushort.MaxValue),
                HottestCelsius = Make(s, WireReading.HottestCelsius, (double)(s.HottestCelsiusOffset - CelsiusOffset)),
            },
            Network = new NetworkFactors
            {
                Metered = Make(s, WireReading.Metered, s.Metered),
                BandwidthBitsPerSecond = Make(s, WireReading.BandwidthBitsPerSecond, (double)s.BandwidthMegabitsPerSecond * BitsPerMegabit),
            },
            Container = new ContainerFactors
            {
                // Built only for a reading that has a value: the bytes of any other are meaningless
                // (validation keeps them zero, and this never reads them).
                CpuLimitCores = Make(s, WireReading.CpuLimitCores,
                    !Has(s, WireReading.CpuLimitCores) || Half.IsPositiveInfinity(s.CpuLimitCores) ? ResourceLimit.Unlimited : ResourceLimit.Of((double)s.CpuLimitCores)),
            },
            Pending = new PendingWork
            {
                QueueDepth = Make(s, WireReading.QueueDepth, (int)s.QueueDepth),
                InFlight = Make(s, WireReading.InFlight, (int)s.InFlight),
                ArrivalsPerSecond = Make(s, WireReading.ArrivalsPerSecond, (double)s.ArrivalsPerSecond),
                RoutedPerSecond = Make(s, WireReading.RoutedPerSecond, (double)s.RoutedPerSecond),
            },
            Trends = new TrendFactors
            {
                BatteryPercentPerHour = Make(s, WireReading.BatteryPercentPerHour, (double)s.BatteryPercentPerHour),
                LoadSlopePerMinute = Make(s, WireReading.LoadSlopePerMinute, (double)s.LoadSlopePerMinute),
            },
        };
    }

    /// <summary>
    /// Checks a decoded state against the same bounds the factor model enforces, so materialising
    /// it can never throw: every quality is known, every value is in range for a reading that has
    /// one, and a reading without a value (Unknown, NotSupported) carries zero bytes, as the
    /// encoder writes it; meaningless bytes are refused, not ignored. Returns null when valid, else what is wrong.
    /// </summary>
    public static string? Validate(in WireNodeState s)
    {
        for (int i = 0; i < WireNodeState.ReadingCount; i++)
        {
            if ((byte)s.Qualities[i] > (byte)SignalQuality.Overridden)
            {
                return "quality";
            }
        }

        if (ValueWithoutReading(s) is { } stray)
        {
            return stray;
        }

        if (Has(s, WireReading.PowerSource) && !Enum.IsDefined((PowerSource)s.PowerSource)) { return "power source"; }
        if (Has(s, WireReading.ChargeState) && !Enum.IsDefined((ChargeState)s.ChargeState)) { return "charge state"; }
        if (Has(s, WireReading.BatteryPercent) && s.BatteryHundredthsPercent > 10_000) { return "battery percent"; }
        if (Has(s, WireReading.BatteryRateWatts) && !InRange(s.BatteryRateWatts, 0, PowerFactors.MaxBatteryRateWatts)) { return "battery rate"; }
        if (Has(s, WireReading.GpuTotalWatts) && !InRange(s.GpuTotalWatts, 0, HalfMax)) { return "gpu watts"; }
        if (Has(s, WireReading.ThermalLevel) && !Enum.IsDefined((ThermalLevel)s.ThermalLevel)) { return "thermal level"; }
        if (Has(s, WireReading.HottestCelsius) && s.HottestCelsiusOffset > ThermalFactors.MaxPlausibleCelsius + CelsiusOffset) { return "temperature"; }
        if (Has(s, WireReading.BandwidthBitsPerSecond) && !InRange(s.BandwidthMegabitsPerSecond, 0, HalfMax)) { return "bandwidth"; }
        if (Has(s, WireReading.CpuLimitCores) && !(Half.IsPositiveInfinity(s.CpuLimitCores) || (InRange(s.CpuLimitCores, 0, HalfMax) && s.CpuLimitCores > Half.Zero))) { return "cpu limit"; }
        if (Has(s, WireReading.BatteryPercentPerHour) && !InRange(s.BatteryPercentPerHour, -TrendFactors.MaxPercentPerHour, TrendFactors.MaxPercentPerHour)) { return "battery trend"; }
        if (Has(s, WireReading.LoadSlopePerMinute) && !InRange(s.LoadSlopePerMinute, -TrendFactors.MaxLoadSlopePerMinute, TrendFactors.MaxLoadSlopePerMinute)) { return "load trend"; }
        if (Has(s, WireReading.ArrivalsPerSecond) && !InRange(s.ArrivalsPerSecond, 0, PendingWork.MaxArrivalsPerSecond)) { return "arrival rate"; }
        if (Has(s, WireReading.RoutedPerSecond) && !InRange(s.RoutedPerSecond, 0, PendingWork.MaxArrivalsPerSecond)) { return "routed rate"; }
        return null;
    }

    // The name of the first reading whose quality says "no value" but whose bytes are not zero.
    private static string? ValueWithoutReading(in WireNodeState s)
    {
        if (Stray(s, WireReading.PowerSource, s.PowerSource != 0)) { return "power source without a reading"; }
        if (Stray(s, WireReading.ChargeState, s.ChargeState != 0)) { return "charge state without a reading"; }
        if (Stray(s, WireReading.BatteryCount, s.BatteryCount != 0)) { return "battery count without a reading"; }
        if (Stray(s, WireReading.BatteryPercent, s.BatteryHundredthsPercent != 0)) { return "battery percent without a reading"; }
        if (Stray(s, WireReading.BatteryRateWatts, NonZero(s.BatteryRateWatts))) { return "battery rate without a reading"; }
        if (Stray(s, WireReading.CpuUtilization, s.CpuUtilization != 0)) { return "cpu utilisation without a reading"; }
        if (Stray(s, WireReading.MemoryPressure, s.MemoryPressure != 0)) { return "memory pressure without a reading"; }
        if (Stray(s, WireReading.GpuCount, s.GpuCount != 0)) { return "gpu count without a reading"; }
        if (Stray(s, WireReading.GpuBusiestUtilization, s.GpuBusiestUtilization != 0)) { return "gpu utilisation without a reading"; }
        if (Stray(s, WireReading.GpuTotalWatts, NonZero(s.GpuTotalWatts))) { return "gpu watts without a reading"; }
        if (Stray(s, WireReading.ThermalLevel, s.ThermalLevel != 0)) { return "thermal level without a reading"; }
        if (Stray(s, WireReading.ThrottleRatio, s.ThrottleRatio != 0)) { return "throttle ratio without a reading"; }
        if (Stray(s, WireReading.HottestCelsius, s.HottestCelsiusOffset != 0)) { return "temperature without a reading"; }
        if (Stray(s, WireReading.Metered, s.Metered)) { return "metered without a reading"; }
        if (Stray(s, WireReading.BandwidthBitsPerSecond, NonZero(s.BandwidthMegabitsPerSecond))) { return "bandwidth without a reading"; }
        if (Stray(s, WireReading.CpuLimitCores, NonZero(s.CpuLimitCores))) { return "cpu limit without a reading"; }
        if (Stray(s, WireReading.QueueDepth, s.QueueDepth != 0)) { return "queue depth without a reading"; }
        if (Stray(s, WireReading.InFlight, s.InFlight != 0)) { return "in flight without a reading"; }
        if (Stray(s, WireReading.BatteryPercentPerHour, NonZero(s.BatteryPercentPerHour))) { return "battery trend without a reading"; }
        if (Stray(s, WireReading.LoadSlopePerMinute, NonZero(s.LoadSlopePerMinute))) { return "load trend without a reading"; }
        if (Stray(s, WireReading.EnergySaver, s.EnergySaver)) { return "energy saver without a reading"; }
        if (Stray(s, WireReading.ArrivalsPerSecond, NonZero(s.ArrivalsPerSecond))) { return "arrival rate without a reading"; }
        if (Stray(s, WireReading.RoutedPerSecond, NonZero(s.RoutedPerSecond))) { return "routed rate without a reading"; }
        return null;
    }

    private static bool Stray(in WireNodeState s, WireReading reading, bool nonZero) => nonZero && !Has(s, reading);

    // Bits, not value: negative zero and NaN payloads are bytes the encoder never writes.
    private static bool NonZero(Half value) => BitConverter.HalfToUInt16Bits(value) != 0;

    private static bool Has(in WireNodeState s, WireReading reading) => s.Qualities[(int)reading] >= SignalQuality.Measured;

    // Rejects NaN and infinities along with out-of-range values.
    private static bool InRange(Half value, double min, double max)
    {
        double d = (double)value;
        return double.IsFinite(d) && d >= min && d <= max;
    }

    private static bool Take<T>(ref WireOwnState own, WireReading reading, Reading<T> value)
        where T : struct
    {
        own.State.Qualities[(int)reading] = value.Quality;
        long ticks = value.ObservedUtcTicks;
        int group = (int)WireNodeState.GroupOf(reading);
        if (ticks != 0 && (own.ObservedTicks[group] == 0 || ticks < own.ObservedTicks[group]))
        {
            own.ObservedTicks[group] = ticks;
        }

        return value.HasValue;
    }

    private static Reading<T> Make<T>(in WireNodeState s, WireReading reading, T value)
        where T : struct
    {
        SignalQuality quality = s.Qualities[(int)reading];
        long ticks = s.ObservedTicks((int)WireNodeState.GroupOf(reading));
        return quality switch
        {
            >= SignalQuality.Measured => Reading.Create(value, quality, ticks, GossipSource),
            SignalQuality.NotSupported => Reading.Create(default(T), quality, ticks, NotSupportedAtNode),
            _ => Reading.Create(default(T), SignalQuality.Unknown, ticks, UnknownAtNode),
        };
    }

    // The router needs the busiest GPU's utilisation and the total draw: one aggregate travels.
    private static void AggregateGpus(GpuFactors g, ref WireOwnState own)
    {
        double busiest = -1;
        double watts = 0;
        bool anyWatts = false;
        SignalQuality utilQuality = SignalQuality.Unknown;
        SignalQuality wattsQuality = SignalQuality.Unknown;
        long utilTicks = 0;
        long wattsTicks = 0;
        foreach (GpuDevice device in g.Devices)
        {
            if (device.Utilization.HasValue && device.Utilization.RawValue > busiest)
            {
                busiest = device.Utilization.RawValue;
                utilQuality = device.Utilization.Quality;
                utilTicks = device.Utilization.ObservedUtcTicks;
            }

            if (device.PowerWatts.HasValue)
            {
                watts += device.PowerWatts.RawValue;
                anyWatts = true;
                // A sum is measured only when every part is; anything else makes it an estimate.
                wattsQuality = wattsQuality is SignalQuality.Unknown or SignalQuality.Measured && device.PowerWatts.Quality == SignalQuality.Measured
                    ? SignalQuality.Measured
                    : SignalQuality.Estimated;
                wattsTicks = wattsTicks == 0 ? device.PowerWatts.ObservedUtcTicks : Math.Min(wattsTicks, device.PowerWatts.ObservedUtcTicks);
            }
        }

        if (busiest >= 0)
        {
            Take(ref own, WireReading.GpuBusiestUtilization, Reading.Create(busiest, utilQuality, utilTicks, GossipSource));
            own.State.GpuBusiestUtilization = Fraction16(busiest);
        }

        if (anyWatts)
        {
            Take(ref own, WireReading.GpuTotalWatts, Reading.Create(watts, wattsQuality, wattsTicks, GossipSource));
            own.State.GpuTotalWatts = ToHalf(watts);
        }
    }

    private static GpuFactors GpusFrom(in WireNodeState s)
    {
        Reading<int> count = Make(s, WireReading.GpuCount, (int)s.GpuCount);
        bool util = Has(s, WireReading.GpuBusiestUtilization);
        bool watts = Has(s, WireReading.GpuTotalWatts);
        if (!util && !watts)
        {
            return new GpuFactors { DeviceCount = count };
        }

        // One device stands for all; a total beyond one board's bound is split evenly over as many
        // stand-ins as it takes, so the sum the scorer reads is the node's total.
        double total = watts ? (double)s.GpuTotalWatts : 0;
        int parts = Math.Max(1, (int)Math.Ceiling(total / GpuDevice.MaxGpuWatts));
        var devices = ImmutableArray.CreateBuilder<GpuDevice>(parts);
        for (int i = 0; i < parts; i++)
        {
            devices.Add(new GpuDevice
            {
                Index = i,
                Name = GpuAggregateName,
                Utilization = Make(s, WireReading.GpuBusiestUtilization, s.GpuBusiestUtilization / (double)ushort.MaxValue),
                PowerWatts = Make(s, WireReading.GpuTotalWatts, total / parts),
            });
        }

        return new GpuFactors { DeviceCount = count, Devices = devices.MoveToImmutable() };
    }

    private static ushort Fraction16(double value) => (ushort)Math.Round(Math.Clamp(value, 0, 1) * ushort.MaxValue);

    private static byte Fraction8(double value) => (byte)Math.Round(Math.Clamp(value, 0, 1) * byte.MaxValue);

    // Half keeps 11 significant bits (relative error at most 2^-11, about 0.05 %); beyond 65,504 it saturates.
    private static Half ToHalf(double value) => (Half)Math.Clamp(value, -HalfMax, HalfMax);
}
