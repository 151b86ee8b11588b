using System.Globalization;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Native;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Power;

/// <summary>
/// The macOS power logic, platform-neutral: turns the IOKit power sources, the
/// <c>AppleSmartBattery</c> registry entry and Low Power Mode (<see cref="IMacPowerSources"/>,
/// <see cref="IMacProcessInfo"/>) into <see cref="PowerFactors"/>. Every rule is in
/// docs/macos/power.md; the tests feed it readings recorded on real Macs.
/// </summary>
/// <remarks>
/// Which power sources count: those of <c>Type</c> <c>InternalBattery</c> (not <c>Is Present</c>
/// = false). A UPS (<c>Type</c> <c>UPS</c>) counts only on a Mac without an internal battery:
/// then its charge is the reserve that keeps the node running. Anything else the OS lists
/// (accessories and types this code does not know) is ignored, as Linux ignores device-scope
/// batteries. Not thread-safe: the collector calls probes one at a time.
/// </remarks>
internal sealed class MacPowerReader
{
    /// <summary>
    /// How long an <c>AppleSmartBattery</c> read stands (10 s). Copying the entry's properties
    /// out of the kernel converts about 70 keys with nested dictionaries, far more than the
    /// power-source calls; the driver re-reads its gauge every 30 s in regular polling
    /// (<c>milliSecPollingTable</c> in Apple's AppleSmartBattery.cpp), so 10 s sees each update
    /// within a third of that and stays well inside the scorer's 30 s power age
    /// (<c>ScoringDefaults.PowerMaxAge</c>). A change of power source or charge state reads it
    /// again on the same pass.
    /// </summary>
    internal static readonly TimeSpan RegistryInterval = TimeSpan.FromSeconds(10);

    internal const string InternalBatteryType = "InternalBattery";
    internal const string UpsType = "UPS";
    internal const string AcPower = "AC Power";
    internal const string BatteryPower = "Battery Power";
    internal const string UpsPower = "UPS Power";
    internal const string OffLine = "Off Line";

    // IOPSKeys.h keys.
    internal const string TypeKey = "Type";
    internal const string StateKey = "Power Source State";
    internal const string CurrentCapacityKey = "Current Capacity";
    internal const string MaxCapacityKey = "Max Capacity";
    internal const string IsChargingKey = "Is Charging";
    internal const string IsChargedKey = "Is Charged";
    internal const string IsPresentKey = "Is Present";
    internal const string TimeToEmptyKey = "Time to Empty";
    internal const string TimeToFullKey = "Time to Full Charge";

    // AppleSmartBattery keys.
    internal const string VoltageKey = "Voltage";
    internal const string AmperageKey = "Amperage";
    internal const string InstantAmperageKey = "InstantAmperage";
    internal const string RawCurrentCapacityKey = "AppleRawCurrentCapacity";
    internal const string RawMaxCapacityKey = "AppleRawMaxCapacity";
    internal const string LegacyCurrentCapacityKey = "CurrentCapacity";
    internal const string LegacyMaxCapacityKey = "MaxCapacity";
    internal const string BatteryInstalledKey = "BatteryInstalled";

    /// <summary>IOPSKeys.h: <c>Time to Empty</c> and <c>Time to Full Charge</c> are -1 while macOS is still calculating.</summary>
    internal const long StillCalculatingMinutes = -1;

    /// <summary>
    /// The largest <c>MaxCapacity</c> that is a percentage: 100. Before <c>AppleRawMaxCapacity</c>
    /// existed (Intel Macs up to macOS 10.15), <c>CurrentCapacity</c> and <c>MaxCapacity</c> were
    /// mAh (thousands); since then they are percent (<c>MaxCapacity</c> = 100). A value above 100
    /// cannot be a percentage, so it is read as mAh.
    /// </summary>
    internal const long MaxPercentCapacity = 100;

    /// <summary>
    /// How far above full a charge may read, as a ratio: 1.25, the Linux probe's rule
    /// (<c>LinuxPowerProbe.MaxLevelOverFull</c>). A gauge that learned a smaller full capacity reads
    /// a few percent over until it learns again, and that reads as 100 %; a quarter or more over
    /// means one of the two values is wrong.
    /// </summary>
    internal const double MaxLevelOverFull = 1.25;

    internal const string NoBatteryReason = "no internal battery or UPS (IOPSCopyPowerSourcesList lists none)";
    internal const string NoSourceReason = "IOPSGetProvidingPowerSourceType gave nothing and no power source says which supply is in use";
    internal const string UpsNoGaugeReason = "a UPS publishes no current or energy through the IOKit power sources";
    internal const string NoSmartBatteryReason = "no AppleSmartBattery registry entry with a battery installed, although the power sources list an internal battery";
    internal const string ZeroCurrentReason = "AppleSmartBattery Amperage reads 0 mA (idle on AC, or not measured): the battery rate is unknown";
    internal const string StillCalculatingReason = "macOS is still calculating the time (-1, IOPSKeys.h)";
    internal const string NotDischargingReason = BatteryTimes.NotDischargingReason;
    internal const string NotChargingReason = BatteryTimes.NotChargingReason;
    internal const string SeveralBatteriesTimeReason = "several batteries: macOS reports a time per battery, and they do not add up";
    internal const string OffLineReason = "the power source is Off Line";
    internal const string LowPowerModeMissingReason = "NSProcessInfo does not respond to isLowPowerModeEnabled (Low Power Mode on a Mac needs macOS 12 or later)";

    private const string ProvidingSource = "IOPSGetProvidingPowerSourceType";
    private const string StateSource = "IOPS Power Source State / Is Charging / Is Charged";
    private const string PercentSource = "IOPS Current Capacity / Max Capacity";
    private const string TimeToEmptySource = "IOPS Time to Empty (macOS's estimate, minutes)";
    private const string TimeToFullSource = "IOPS Time to Full Charge (macOS's estimate, minutes)";
    private const string RateSource = "AppleSmartBattery |Amperage| (mA) x Voltage (mV)";
    private const string InstantRateSource = "AppleSmartBattery |InstantAmperage| (mA) x Voltage (mV)";
    private const string EnergySource = "AppleSmartBattery AppleRawCurrentCapacity / AppleRawMaxCapacity (mAh) x Voltage (mV): the present pack voltage stands in for the mean discharge voltage";
    private const string LegacyEnergySource = "AppleSmartBattery CurrentCapacity / MaxCapacity (mAh before macOS 11) x Voltage (mV): the present pack voltage stands in for the mean discharge voltage";
    private const string LowPowerModeSource = "NSProcessInfo.isLowPowerModeEnabled";
    private const string SmartBatteryName = "AppleSmartBattery";
    private const string PowerSourcesName = "IOPS power source";

    private const double FullPercent = 100;
    private const double SecondsPerMinute = 60;
    private const double MilliSquared = 1e-6; // mA x mV -> W, mAh x mV -> Wh

    private readonly IMacPowerSources _sources;
    private readonly IMacProcessInfo _processInfo;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probe;
    private readonly Cadence _registry = new(RegistryInterval);
    private RegistryReadings _registryReadings = RegistryReadings.NotRead;
    private bool _seenState;
    private string? _lastProviding;
    private Reading<ChargeState> _lastState;

    /// <summary>Creates the logic over its sources.</summary>
    /// <param name="sources">The power sources and the battery registry entry.</param>
    /// <param name="processInfo">Low Power Mode.</param>
    /// <param name="failures">Where failed reads are counted.</param>
    /// <param name="probe">The probe's name, for the failure reports.</param>
    public MacPowerReader(IMacPowerSources sources, IMacProcessInfo processInfo, IProbeFailureReporter failures, string probe)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(processInfo);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(probe);
        _sources = sources;
        _processInfo = processInfo;
        _failures = failures;
        _probe = probe;
    }

    /// <summary>Reads the power factors now.</summary>
    /// <param name="clock">The snapshot's clock.</param>
    public PowerFactors Read(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        DateTimeOffset now = clock.GetUtcNow();
        long stamp = clock.GetTimestamp();
        Reading<bool> saver = ReadLowPowerMode(now);

        if (!TryNative(_sources.ReadPowerSources, "IOPSCopyPowerSourcesInfo", out var snapshot, out string? error))
        {
            return AllUnknown(now, error, saver);
        }

        var batteries = new List<IReadOnlyDictionary<string, object>>();
        var upses = new List<IReadOnlyDictionary<string, object>>();
        foreach (IReadOnlyDictionary<string, object> source in snapshot.Sources)
        {
            if (!PropertyValues.TryGetString(source, TypeKey, out string? type)
                || (PropertyValues.TryGetBool(source, IsPresentKey, out bool present) && !present))
            {
                continue;
            }

            if (type == InternalBatteryType)
            {
                batteries.Add(source);
            }
            else if (type == UpsType)
            {
                upses.Add(source);
            }
        }

        bool onUps = batteries.Count == 0;
        List<IReadOnlyDictionary<string, object>> counted = onUps ? upses : batteries;
        Reading<PowerSource> powerSource = SourceOf(snapshot.ProvidingType, counted, onUps, now);

        if (counted.Count == 0)
        {
            Reading<double> none = Reading.NotSupported<double>(NoBatteryReason, now);
            return new PowerFactors
            {
                Source = powerSource,
                BatteryCount = Reading.Measured(0, now, "IOPSCopyPowerSourcesList"),
                BatteryPercent = none,
                ChargeState = Reading.NotSupported<ChargeState>(NoBatteryReason, now),
                BatteryRateWatts = none,
                RemainingWattHours = none,
                FullWattHours = none,
                TimeToEmptySeconds = none,
                TimeToFullSeconds = none,
                EnergySaver = saver,
            };
        }

        Reading<ChargeState> state = CombineState(counted, now);

        // A plug or unplug changes the current's sign and size at once: read the gauge again.
        if (_seenState && (snapshot.ProvidingType != _lastProviding || state.HasValue != _lastState.HasValue
            || (state.HasValue && state.Value != _lastState.Value)))
        {
            _registry.Expire();
        }

        _seenState = true;
        _lastProviding = snapshot.ProvidingType;
        _lastState = state;

        RegistryReadings gauge;
        if (onUps)
        {
            Reading<double> noGauge = Reading.NotSupported<double>(UpsNoGaugeReason, now);
            gauge = new RegistryReadings(noGauge, noGauge, noGauge);
        }
        else
        {
            if (_registry.IsDue(clock, stamp))
            {
                _registryReadings = ReadSmartBatteries(now, out bool succeeded);
                _registry.Completed(stamp, succeeded);
            }

            gauge = _registryReadings;
        }

        (Reading<double> toEmpty, Reading<double> toFull) = Times(counted, state, now);

        return new PowerFactors
        {
            Source = powerSource,
            BatteryCount = Reading.Measured(counted.Count, now, onUps ? "IOPSCopyPowerSourcesList (Type UPS)" : "IOPSCopyPowerSourcesList (Type InternalBattery)"),
            BatteryPercent = Percent(counted, now),
            ChargeState = state,
            BatteryRateWatts = gauge.Rate,
            RemainingWattHours = gauge.Remaining,
            FullWattHours = gauge.Full,
            TimeToEmptySeconds = toEmpty,
            TimeToFullSeconds = toFull,
            EnergySaver = saver,
        };
    }

    private static PowerFactors AllUnknown(DateTimeOffset now, string reason, Reading<bool> saver)
    {
        Reading<double> unknown = Reading.Unknown<double>(reason, now);
        return new PowerFactors
        {
            Source = Reading.Unknown<PowerSource>(reason, now),
            BatteryCount = Reading.Unknown<int>(reason, now),
            BatteryPercent = unknown,
            ChargeState = Reading.Unknown<ChargeState>(reason, now),
            BatteryRateWatts = unknown,
            RemainingWattHours = unknown,
            FullWattHours = unknown,
            TimeToEmptySeconds = unknown,
            TimeToFullSeconds = unknown,
            EnergySaver = saver,
        };
    }

    private Reading<bool> ReadLowPowerMode(DateTimeOffset now)
    {
        if (!TryNative(_processInfo.IsLowPowerModeEnabled, "NSProcessInfo.isLowPowerModeEnabled", out bool? enabled, out string? error))
        {
            return Reading.Unknown<bool>(error, now);
        }

        return enabled is { } on
            ? Reading.Measured(on, now, LowPowerModeSource)
            : Reading.NotSupported<bool>(LowPowerModeMissingReason, now);
    }

    /// <summary>
    /// The supply in use: <c>IOPSGetProvidingPowerSourceType</c> when it says one of its three
    /// values, else the counted sources' <c>Power Source State</c> (a battery on "Battery Power"
    /// is the battery; a UPS on "Battery Power" is a UPS after a mains failure).
    /// </summary>
    private Reading<PowerSource> SourceOf(string? providing, List<IReadOnlyDictionary<string, object>> counted, bool onUps, DateTimeOffset now)
    {
        switch (providing)
        {
            case AcPower: return Reading.Measured(PowerSource.Mains, now, ProvidingSource);
            case BatteryPower: return Reading.Measured(PowerSource.Battery, now, ProvidingSource);
            case UpsPower: return Reading.Measured(PowerSource.Ups, now, ProvidingSource);
            default: break;
        }

        string? unexpected = providing is null ? null
            : Report("garbage", $"IOPSGetProvidingPowerSourceType gave \"{PropertyValues.Quote(providing)}\", not {AcPower}, {BatteryPower} or {UpsPower}");
        bool anyOnBattery = false, anyOnAc = false;
        foreach (IReadOnlyDictionary<string, object> source in counted)
        {
            if (PropertyValues.TryGetString(source, StateKey, out string? state))
            {
                anyOnBattery |= state == BatteryPower;
                anyOnAc |= state == AcPower;
            }
        }

        string fallback = $"{PowerSourcesName} {StateKey} ({ProvidingSource} gave {(providing is null ? "nothing" : "\"" + PropertyValues.Quote(providing) + "\"")})";
        return anyOnBattery ? Reading.Measured(onUps ? PowerSource.Ups : PowerSource.Battery, now, fallback)
            : anyOnAc ? Reading.Measured(PowerSource.Mains, now, fallback)
            : Reading.Unknown<PowerSource>(unexpected ?? NoSourceReason, now);
    }

    /// <summary>
    /// One state for the counted sources: Discharging wins (energy leaves a pack), then Charging,
    /// then a failure, then Not charging (on AC, held below full: optimised or limited charging),
    /// then Full; as on Linux.
    /// </summary>
    private Reading<ChargeState> CombineState(List<IReadOnlyDictionary<string, object>> counted, DateTimeOffset now)
    {
        bool charging = false, discharging = false, notCharging = false;
        string? failure = null;
        foreach (IReadOnlyDictionary<string, object> source in counted)
        {
            if (!PropertyValues.TryGetString(source, StateKey, out string? state))
            {
                failure ??= Report("missing", $"{PowerSourcesName}: {PropertyValues.Describe(source, StateKey)}");
                continue;
            }

            if (PropertyValues.TryGetBool(source, IsChargingKey, out bool isCharging) && isCharging)
            {
                charging = true;
            }
            else if (state == BatteryPower)
            {
                discharging = true;
            }
            else if (state == AcPower)
            {
                // On AC and not charging: full when the gauge says so, else held below full.
                notCharging |= !(PropertyValues.TryGetBool(source, IsChargedKey, out bool isCharged) && isCharged);
            }
            else if (state == OffLine)
            {
                failure ??= OffLineReason;
            }
            else
            {
                failure ??= Report("garbage", $"{PowerSourcesName}: {StateKey} is \"{PropertyValues.Quote(state)}\", not {AcPower}, {BatteryPower} or {OffLine}");
            }
        }

        return discharging ? Reading.Measured(ChargeState.Discharging, now, StateSource)
            : charging ? Reading.Measured(ChargeState.Charging, now, StateSource)
            : failure is not null ? Reading.Unknown<ChargeState>(failure, now)
            : notCharging ? Reading.Measured(ChargeState.NotCharging, now, StateSource)
            : Reading.Measured(ChargeState.Full, now, StateSource);
    }

    /// <summary>
    /// <c>Current Capacity</c> / <c>Max Capacity</c>, each in <see cref="MacPowerPlausible.SourceCapacity"/>,
    /// at most <see cref="MaxLevelOverFull"/> of full (a gauge a little over reads
    /// 100 %). Several sources: the ratio of the sums, Estimated (the units are percent, so every
    /// source weighs the same whatever its size).
    /// </summary>
    private Reading<double> Percent(List<IReadOnlyDictionary<string, object>> counted, DateTimeOffset now)
    {
        double current = 0, max = 0;
        foreach (IReadOnlyDictionary<string, object> source in counted)
        {
            if (!TryValue(source, CurrentCapacityKey, MacPowerPlausible.SourceCapacity, PowerSourcesName, out double c, out string? error)
                || !TryValue(source, MaxCapacityKey, MacPowerPlausible.SourceCapacity with { Min = 1 }, PowerSourcesName, out double m, out error))
            {
                return Reading.Unknown<double>(error, now);
            }

            if (c > m * MaxLevelOverFull)
            {
                return Reading.Unknown<double>(Report(Plausible.OutOfRangeKind, Plausible.Exceeds(
                    "power source capacity", CurrentCapacityKey, Format(c), $"{MaxCapacityKey} x {MaxLevelOverFull:G}", MaxCapacityKey, Format(m),
                    "a gauge reads a few percent over full until it learns its capacity again, not more")), now);
            }

            current += c;
            max += m;
        }

        double percent = Math.Clamp(current / max * FullPercent, 0, FullPercent);
        return counted.Count == 1 ? Reading.Measured(percent, now, PercentSource) : Reading.Estimated(percent, now, PercentSource);
    }

    /// <summary>macOS's own estimates: <c>Time to Empty</c> while discharging, <c>Time to Full Charge</c> while charging.</summary>
    private (Reading<double> ToEmpty, Reading<double> ToFull) Times(List<IReadOnlyDictionary<string, object>> counted, Reading<ChargeState> state, DateTimeOffset now)
    {
        Reading<double> toEmpty = BatteryTimes.NotIn(state, ChargeState.Discharging, now, out Reading<double> notDischarging)
            ? notDischarging
            : Minutes(counted, TimeToEmptyKey, TimeToEmptySource, now);
        Reading<double> toFull = BatteryTimes.NotIn(state, ChargeState.Charging, now, out Reading<double> notCharging)
            ? notCharging
            : Minutes(counted, TimeToFullKey, TimeToFullSource, now);
        return (toEmpty, toFull);
    }

    private Reading<double> Minutes(List<IReadOnlyDictionary<string, object>> counted, string key, string source, DateTimeOffset now)
    {
        if (counted.Count != 1)
        {
            return Reading.Unknown<double>(SeveralBatteriesTimeReason, now);
        }

        IReadOnlyDictionary<string, object> description = counted[0];
        if (PropertyValues.TryGetInt64(description, key, out long minutes) && minutes == StillCalculatingMinutes)
        {
            return Reading.Unknown<double>(StillCalculatingReason, now);
        }

        return TryValue(description, key, MacPowerPlausible.SourceMinutes, PowerSourcesName, out double value, out string? error)
            ? Reading.Estimated(value * SecondsPerMinute, now, source)
            : Reading.Unknown<double>(error, now);
    }

    /// <summary>
    /// Rate and energy from every <c>AppleSmartBattery</c> entry with a battery installed (one on
    /// every Mac so far; several are summed). <paramref name="succeeded"/> is false when the read
    /// failed or found no entry, so that the next pass tries again.
    /// </summary>
    private RegistryReadings ReadSmartBatteries(DateTimeOffset now, out bool succeeded)
    {
        succeeded = false;
        if (!TryNative(_sources.ReadSmartBatteries, "IOKit AppleSmartBattery", out var entries, out string? error))
        {
            Reading<double> failed = Reading.Unknown<double>(error, now);
            return new RegistryReadings(failed, failed, failed);
        }

        double watts = 0, remainingWh = 0, fullWh = 0;
        string? rateReason = null, energyReason = null;
        bool rateReported = false, instant = false, legacy = false;
        int installed = 0;
        foreach (IReadOnlyDictionary<string, object> battery in entries)
        {
            if (PropertyValues.TryGetBool(battery, BatteryInstalledKey, out bool isInstalled) && !isInstalled)
            {
                continue;
            }

            installed++;
            if (!TryValue(battery, VoltageKey, MacPowerPlausible.BatteryVoltageMilliVolts, SmartBatteryName, out double millivolts, out string? voltageError))
            {
                rateReason ??= voltageError;
                rateReported = true;
                energyReason ??= voltageError;
                continue;
            }

            // Amperage is the gauge's averaged current, which powerd's own estimates use;
            // InstantAmperage only where Amperage is absent.
            string amperageKey = battery.ContainsKey(AmperageKey) ? AmperageKey : InstantAmperageKey;
            instant |= amperageKey == InstantAmperageKey;
            if (!TryValue(battery, amperageKey, MacPowerPlausible.BatteryCurrentMilliAmps, SmartBatteryName, out double milliamps, out string? currentError))
            {
                rateReason ??= currentError;
                rateReported = true;
            }
            else if (milliamps == 0)
            {
                rateReason ??= ZeroCurrentReason;
            }
            else
            {
                watts += Math.Abs(milliamps) * millivolts * MilliSquared;
            }

            if (TryCharge(battery, out double nowMah, out double fullMah, out bool isLegacy, out string? chargeError))
            {
                remainingWh += nowMah * millivolts * MilliSquared;
                fullWh += fullMah * millivolts * MilliSquared;
                legacy |= isLegacy;
            }
            else
            {
                energyReason ??= chargeError;
            }
        }

        if (installed == 0)
        {
            Reading<double> none = Reading.Unknown<double>(NoSmartBatteryReason, now);
            return new RegistryReadings(none, none, none);
        }

        succeeded = true;
        Reading<double> rate = rateReason is not null ? Reading.Unknown<double>(rateReason, now)
            : Reading.Measured(watts, now, instant ? InstantRateSource : RateSource);
        Reading<double> remaining = energyReason is not null ? Reading.Unknown<double>(energyReason, now)
            : Reading.Estimated(remainingWh, now, legacy ? LegacyEnergySource : EnergySource);
        Reading<double> full = energyReason is not null ? Reading.Unknown<double>(energyReason, now)
            : Reading.Estimated(fullWh, now, legacy ? LegacyEnergySource : EnergySource);

        // A failed value is worth another read on the next pass; a 0 mA current is a lasting state.
        succeeded = !rateReported && energyReason is null;
        return new RegistryReadings(rate, remaining, full);
    }

    /// <summary>
    /// The charge now and when full, in mAh: <c>AppleRawCurrentCapacity</c> / <c>AppleRawMaxCapacity</c>,
    /// or, where those do not exist (Intel Macs before macOS 11), <c>CurrentCapacity</c> /
    /// <c>MaxCapacity</c> when <c>MaxCapacity</c> is above <see cref="MaxPercentCapacity"/> (mAh, not percent).
    /// </summary>
    private bool TryCharge(IReadOnlyDictionary<string, object> battery, out double nowMah, out double fullMah, out bool legacy, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        legacy = false;
        nowMah = fullMah = 0;
        string currentKey = RawCurrentCapacityKey, maxKey = RawMaxCapacityKey;
        if (!battery.ContainsKey(RawCurrentCapacityKey) && !battery.ContainsKey(RawMaxCapacityKey)
            && PropertyValues.TryGetInt64(battery, LegacyMaxCapacityKey, out long legacyMax) && legacyMax > MaxPercentCapacity)
        {
            legacy = true;
            currentKey = LegacyCurrentCapacityKey;
            maxKey = LegacyMaxCapacityKey;
        }

        if (!TryValue(battery, currentKey, MacPowerPlausible.BatteryChargeMilliAmpHours, SmartBatteryName, out nowMah, out error)
            || !TryValue(battery, maxKey, MacPowerPlausible.BatteryChargeMilliAmpHours with { Min = 1 }, SmartBatteryName, out fullMah, out error))
        {
            return false;
        }

        if (nowMah > fullMah * MaxLevelOverFull)
        {
            error = Report(Plausible.OutOfRangeKind, Plausible.Exceeds(
                "battery charge", $"{SmartBatteryName} {currentKey}", Format(nowMah), $"{maxKey} x {MaxLevelOverFull:G}", $"{SmartBatteryName} {maxKey}", Format(fullMah),
                "a gauge reads a few percent over full until it learns its capacity again, not more"));
            return false;
        }

        return true;
    }

    /// <summary>A number under <paramref name="key"/> within <paramref name="range"/>; else the reason (reported: "missing" when absent, "garbage" for another kind, "out-of-range").</summary>
    private bool TryValue(IReadOnlyDictionary<string, object> properties, string key, PlausibleRange range, string where, out double value, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        if (!PropertyValues.TryGetDouble(properties, key, out value))
        {
            error = Report(properties.ContainsKey(key) ? "garbage" : "missing", $"{where}: {PropertyValues.Describe(properties, key)}");
            return false;
        }

        if (!range.Contains(value))
        {
            error = Report(Plausible.OutOfRangeKind, Plausible.Reason(range, $"{where} {key}", Format(value)));
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Calls the native layer; a failure (the call or its conversion) is reported and becomes the
    /// reason. These are the exceptions the native layer documents, plus a framework or symbol that
    /// cannot be found on an unusual macOS.
    /// </summary>
    private bool TryNative<T>(Func<T> call, string what, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out T result, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        string failure;
        string kind = "io";
        try
        {
            result = call();
            error = null;
            return true;
        }
        catch (IOException ex)
        {
            failure = ex.Message;
        }
        catch (InvalidDataException ex)
        {
            kind = "garbage";
            failure = ex.Message;
        }
        catch (InvalidOperationException ex)
        {
            failure = ex.Message;
        }
        catch (DllNotFoundException ex)
        {
            kind = "missing";
            failure = ex.Message;
        }
        catch (EntryPointNotFoundException ex)
        {
            kind = "missing";
            failure = ex.Message;
        }

        result = default;
        error = Report(kind, $"{what}: {failure}");
        return false;
    }

    private string Report(string kind, string reason)
    {
        _failures.Report(_probe, kind, reason);
        return reason;
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>The readings built from the last <c>AppleSmartBattery</c> read, kept with their observation time.</summary>
    private sealed record RegistryReadings(Reading<double> Rate, Reading<double> Remaining, Reading<double> Full)
    {
        public static RegistryReadings NotRead { get; } = new(
            Reading.Unknown<double>("AppleSmartBattery not read yet"),
            Reading.Unknown<double>("AppleSmartBattery not read yet"),
            Reading.Unknown<double>("AppleSmartBattery not read yet"));
    }
}
