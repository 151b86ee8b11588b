using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Power;

/// <summary>
/// Power source, battery and battery saver from <c>GetSystemPowerStatus</c> and
/// <c>CallNtPowerInformation(SystemBatteryState)</c>: two unprivileged calls into stack
/// structures per pass, nothing else. Every rule is in docs/windows/power.md.
/// </summary>
/// <remarks>
/// Windows sums every system battery into one composite battery, so a present battery counts as 1
/// (Estimated: there may be two). Sentinels (255, 0xFFFFFFFF, <c>BATTERY_UNKNOWN_RATE</c>) are
/// Unknown with what Windows said; values outside their plausible range
/// (<see cref="PowerPlausible"/>), and answers of the two calls that contradict each other, are
/// Unknown and reported. A pass allocates only its <see cref="PowerFactors"/> unless something fails.
/// </remarks>
internal sealed class WindowsPowerProbe : ISignalProbe
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "windows.power";

    /// <summary><c>ACLineStatus</c> 255: unknown (SYSTEM_POWER_STATUS).</summary>
    internal const byte AcLineUnknown = 255;

    /// <summary><c>BatteryFlag</c> 128: no system battery (<c>BATTERY_FLAG_NO_BATTERY</c>).</summary>
    internal const byte BatteryFlagNoBattery = 128;

    /// <summary><c>BatteryFlag</c> 255: unknown status (<c>BATTERY_FLAG_UNKNOWN</c>).</summary>
    internal const byte BatteryFlagUnknown = 255;

    /// <summary><c>BatteryFlag</c> bit 8: charging (<c>BATTERY_FLAG_CHARGING</c>).</summary>
    internal const byte BatteryFlagCharging = 8;

    /// <summary><c>BatteryLifePercent</c> 255: unknown (<c>BATTERY_PERCENTAGE_UNKNOWN</c>).</summary>
    internal const byte PercentUnknown = 255;

    /// <summary>0xFFFFFFFF: an unknown capacity or time (<c>BATTERY_UNKNOWN_CAPACITY</c>, <c>BATTERY_UNKNOWN_TIME</c>, <c>BATTERY_LIFE_UNKNOWN</c>).</summary>
    internal const uint UnknownValue = uint.MaxValue;

    /// <summary>0x80000000: an unknown rate (<c>BATTERY_UNKNOWN_RATE</c>, batclass.h).</summary>
    internal const int UnknownRate = int.MinValue;

    internal const string NoBatteryReason = "no system battery";
    internal const string AcUnknownReason = "GetSystemPowerStatus reports ACLineStatus 255 (unknown)";
    internal const string BatteryFlagUnknownReason = "GetSystemPowerStatus reports BatteryFlag 255 (unknown battery status)";
    internal const string FlagUndeterminedReason = "GetSystemPowerStatus reports BatteryFlag 0 with BatteryLifePercent 255: Windows cannot determine the battery status";
    internal const string PercentUnknownReason = "GetSystemPowerStatus reports BatteryLifePercent 255 (unknown)";
    internal const string FullUnknownReason = "SYSTEM_BATTERY_STATE reports MaxCapacity 0xFFFFFFFF (BATTERY_UNKNOWN_CAPACITY)";
    internal const string FullZeroReason = "SYSTEM_BATTERY_STATE reports MaxCapacity 0: the battery has not reported its full charge capacity";
    internal const string RemainingUnknownReason = "SYSTEM_BATTERY_STATE reports RemainingCapacity 0xFFFFFFFF (BATTERY_UNKNOWN_CAPACITY)";
    internal const string RateUnknownReason = "SYSTEM_BATTERY_STATE reports Rate 0x80000000 (BATTERY_UNKNOWN_RATE)";
    internal const string ZeroRateReason = "SYSTEM_BATTERY_STATE reports Rate 0 mW: Windows gives 0 for an idle battery and for one whose rate it does not know";
    internal const string NotDischargingReason = BatteryTimes.NotDischargingReason;
    internal const string NotChargingReason = BatteryTimes.NotChargingReason;
    internal const string IdleOnBatteryReason = "SYSTEM_BATTERY_STATE reports neither charging nor discharging while on battery power";
    internal const string FullOrNotChargingReason = "GetSystemPowerStatus cannot tell a full battery from one that is not charging, and SYSTEM_BATTERY_STATE could not be read";
    internal const string AcOfflineNoBatteryReason = "Windows reports AC offline and no system battery";

    private const string StatusCall = "GetSystemPowerStatus";
    private const string BatteryCall = "CallNtPowerInformation(SystemBatteryState)";

    private const string AcOnlineSource = "GetSystemPowerStatus ACLineStatus 1 (online)";
    private const string AcOfflineSource = "GetSystemPowerStatus ACLineStatus 0 (offline)";
    private const string AcBackupSource = "GetSystemPowerStatus ACLineStatus 2 (AC_LINE_BACKUP_POWER)";
    private const string AcOnLineStateSource = "SYSTEM_BATTERY_STATE.AcOnLine 1";
    private const string AcOffLineStateSource = "SYSTEM_BATTERY_STATE.AcOnLine 0";
    private const string FlagNoBatterySource = "GetSystemPowerStatus BatteryFlag 128 (no system battery)";
    private const string NotPresentSource = "SYSTEM_BATTERY_STATE.BatteryPresent 0";
    private const string PresentSource = "SYSTEM_BATTERY_STATE.BatteryPresent: Windows sums every system battery into one composite battery, so one or more";
    private const string FlagPresentSource = "GetSystemPowerStatus BatteryFlag: Windows sums every system battery into one composite battery, so one or more";
    private const string PercentCapacitySource = "SYSTEM_BATTERY_STATE RemainingCapacity / MaxCapacity";
    private const string PercentLifeSource = "GetSystemPowerStatus BatteryLifePercent";
    private const string RemainingSource = "SYSTEM_BATTERY_STATE.RemainingCapacity";
    private const string FullSource = "SYSTEM_BATTERY_STATE.MaxCapacity";
    private const string RateSource = "SYSTEM_BATTERY_STATE.Rate (magnitude)";
    private const string DischargingSource = "SYSTEM_BATTERY_STATE.Discharging";
    private const string ChargingSource = "SYSTEM_BATTERY_STATE.Charging";
    private const string IdleBelowFullSource = "SYSTEM_BATTERY_STATE: neither charging nor discharging, below full capacity";
    private const string IdleFullSource = "SYSTEM_BATTERY_STATE: neither charging nor discharging, at full capacity";
    private const string FlagChargingSource = "GetSystemPowerStatus BatteryFlag 8 (charging)";
    private const string OnBatterySource = "GetSystemPowerStatus ACLineStatus 0 (on battery) and BatteryFlag not charging";
    private const string EstimatedTimeSource = "SYSTEM_BATTERY_STATE.EstimatedTime (Windows' own estimate)";
    private const string LifeTimeSource = "GetSystemPowerStatus BatteryLifeTime (Windows' own estimate)";
    private const string TimeToEmptySource = "RemainingCapacity / discharge rate";
    private const string TimeToFullSource = "(MaxCapacity - RemainingCapacity) / charge rate";
    private const string EnergySaverSource = "GetSystemPowerStatus SystemStatusFlag (battery saver)";

    // SYSTEM_BATTERY_STATE units: capacities mWh, rate mW; times in seconds (BatteryTimes derives them).
    private const double MilliPerUnit = 1000;
    private const double FullPercent = 100;

    private readonly IWindowsPowerApi _api;
    private readonly IProbeFailureReporter _failures;

    /// <summary>The probe on this machine's Win32 API.</summary>
    /// <param name="failures">Where failed calls and implausible values are reported.</param>
    [SupportedOSPlatform("windows")]
    public WindowsPowerProbe(IProbeFailureReporter failures)
        : this(new Win32PowerApi(), failures)
    {
    }

    /// <summary>The probe on any <see cref="IWindowsPowerApi"/> (tests fake the raw structures).</summary>
    internal WindowsPowerProbe(IWindowsPowerApi api, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(failures);
        _api = api;
        _failures = failures;
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Power;

    private enum Presence : byte
    {
        Unknown,
        None,
        Present,
    }

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        DateTimeOffset now = snapshot.TimeProvider.GetUtcNow();

        string? statusFailure = null;
        if (!_api.TryGetSystemPowerStatus(out SystemPowerStatus status, out int error))
        {
            statusFailure = Report(PowerCallError.Win32ErrorKind, PowerCallError.Win32(StatusCall, error));
        }

        int nt = _api.GetSystemBatteryState(out SystemBatteryState battery);
        string? batteryFailure = PowerCallError.IsSuccess(nt) ? null : Report(PowerCallError.NtStatusKind, PowerCallError.NtStatus(BatteryCall, nt));

        var pass = new Pass(now, status, statusFailure, battery, batteryFailure);
        Presence presence = BatteryPresence(pass, out string presenceNote);
        Reading<PowerSource> source = Source(pass, presence);
        Reading<bool> saver = EnergySaver(pass);

        snapshot.Power = presence switch
        {
            Presence.None => NoBattery(now, source, saver, presenceNote),
            Presence.Present => WithBattery(pass, source, saver, presenceNote),
            _ => UnknownBattery(now, source, saver, presenceNote),
        };
    }

    /// <summary>Whether there is a system battery: <c>BatteryPresent</c> and <c>BatteryFlag</c> must agree when both answer.</summary>
    /// <param name="pass">This pass's answers.</param>
    /// <param name="note">The source of a known presence, or the reason it is not known.</param>
    private Presence BatteryPresence(in Pass pass, out string note)
    {
        Presence flagSays;
        string? flagReason = null;
        byte flag = pass.Status.BatteryFlag;
        if (pass.StatusFailure is not null)
        {
            flagSays = Presence.Unknown;
            flagReason = pass.StatusFailure;
        }
        else if (flag == BatteryFlagUnknown)
        {
            flagSays = Presence.Unknown;
            flagReason = BatteryFlagUnknownReason;
        }
        else if (flag == BatteryFlagNoBattery)
        {
            flagSays = Presence.None;
        }
        else if (!PowerPlausible.BatteryFlag.Contains(flag))
        {
            flagSays = Presence.Unknown;
            flagReason = Implausible(PowerPlausible.BatteryFlag, StatusCall, flag);
        }
        else if (flag == 0 && pass.Status.BatteryLifePercent == PercentUnknown)
        {
            // 0 is "between low and high, or cannot determine"; with no percentage it is the latter.
            flagSays = Presence.Unknown;
            flagReason = FlagUndeterminedReason;
        }
        else
        {
            flagSays = Presence.Present;
        }

        Presence stateSays = pass.BatteryFailure is not null ? Presence.Unknown
            : pass.Battery.BatteryPresent != 0 ? Presence.Present
            : Presence.None;

        if (flagSays != Presence.Unknown && stateSays != Presence.Unknown && flagSays != stateSays)
        {
            note = Report(PowerCallError.InconsistentKind, string.Create(CultureInfo.InvariantCulture,
                $"GetSystemPowerStatus BatteryFlag {flag} and SYSTEM_BATTERY_STATE.BatteryPresent {pass.Battery.BatteryPresent} disagree on whether there is a system battery"));
            return Presence.Unknown;
        }

        if (stateSays != Presence.Unknown)
        {
            note = stateSays == Presence.Present ? PresentSource
                : flagSays == Presence.None ? FlagNoBatterySource
                : NotPresentSource;
            return stateSays;
        }

        if (flagSays != Presence.Unknown)
        {
            note = flagSays == Presence.Present ? FlagPresentSource : FlagNoBatterySource;
            return flagSays;
        }

        // Neither says: both calls failed, or the flag is a sentinel and the battery state failed.
        note = $"{flagReason}; {pass.BatteryFailure}";
        return Presence.Unknown;
    }

    /// <summary>Mains, battery or backup power from <c>ACLineStatus</c>, else from <c>AcOnLine</c>.</summary>
    private Reading<PowerSource> Source(in Pass pass, Presence presence)
    {
        DateTimeOffset now = pass.Now;
        if (pass.StatusFailure is null)
        {
            byte line = pass.Status.ACLineStatus;
            return line switch
            {
                1 => Reading.Measured(PowerSource.Mains, now, AcOnlineSource),
                0 when presence == Presence.None => Reading.Unknown<PowerSource>(AcOfflineNoBatteryReason, now),
                0 => Reading.Measured(PowerSource.Battery, now, AcOfflineSource),
                2 => Reading.Measured(PowerSource.Ups, now, AcBackupSource),
                AcLineUnknown => Reading.Unknown<PowerSource>(AcUnknownReason, now),
                _ => Reading.Unknown<PowerSource>(Implausible(PowerPlausible.AcLineStatus, StatusCall, line), now),
            };
        }

        if (pass.BatteryFailure is null)
        {
            return pass.Battery.AcOnLine != 0 ? Reading.Measured(PowerSource.Mains, now, AcOnLineStateSource)
                : presence == Presence.None ? Reading.Unknown<PowerSource>(AcOfflineNoBatteryReason, now)
                : Reading.Measured(PowerSource.Battery, now, AcOffLineStateSource);
        }

        return Reading.Unknown<PowerSource>(pass.StatusFailure, now);
    }

    /// <summary>Battery saver from <c>SystemStatusFlag</c>: 1 on, 0 off.</summary>
    private Reading<bool> EnergySaver(in Pass pass)
    {
        if (pass.StatusFailure is not null)
        {
            return Reading.Unknown<bool>(pass.StatusFailure, pass.Now);
        }

        byte flag = pass.Status.SystemStatusFlag;
        return PowerPlausible.SystemStatusFlag.Contains(flag)
            ? Reading.Measured(flag == 1, pass.Now, EnergySaverSource)
            : Reading.Unknown<bool>(Implausible(PowerPlausible.SystemStatusFlag, StatusCall, flag), pass.Now);
    }

    private static PowerFactors NoBattery(DateTimeOffset now, Reading<PowerSource> source, Reading<bool> saver, string presenceSource)
    {
        Reading<double> none = Reading.NotSupported<double>(NoBatteryReason, now);
        return new PowerFactors
        {
            Source = source,
            BatteryCount = Reading.Measured(0, now, presenceSource),
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

    private static PowerFactors UnknownBattery(DateTimeOffset now, Reading<PowerSource> source, Reading<bool> saver, string reason)
    {
        Reading<double> unknown = Reading.Unknown<double>(reason, now);
        return new PowerFactors
        {
            Source = source,
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

    private PowerFactors WithBattery(in Pass pass, Reading<PowerSource> source, Reading<bool> saver, string presenceSource)
    {
        DateTimeOffset now = pass.Now;
        Reading<double> full = Full(pass);
        Reading<double> remaining = Remaining(pass, full);
        Reading<double> percent = Percent(pass, remaining, full);
        Reading<ChargeState> state = State(pass, source, remaining, full, percent);
        Reading<double> rate = Rate(pass);

        Reading<double> toEmpty = BatteryTimes.NotIn(state, ChargeState.Discharging, now, out Reading<double> notDischarging)
            ? notDischarging
            : TimeToEmpty(pass, remaining, rate);
        Reading<double> toFull = BatteryTimes.NotIn(state, ChargeState.Charging, now, out Reading<double> notCharging)
            ? notCharging
            : BatteryTimes.UntilFull(remaining, full, rate, now, TimeToFullSource);

        return new PowerFactors
        {
            Source = source,
            BatteryCount = Reading.Estimated(1, now, presenceSource),
            BatteryPercent = percent,
            ChargeState = state,
            BatteryRateWatts = rate,
            RemainingWattHours = remaining,
            FullWattHours = full,
            TimeToEmptySeconds = toEmpty,
            TimeToFullSeconds = toFull,
            EnergySaver = saver,
        };
    }

    /// <summary><c>MaxCapacity</c> in Wh: unknown, 0, relative units (under 1 Wh) and values beyond 100 kWh are Unknown.</summary>
    private Reading<double> Full(in Pass pass)
    {
        if (pass.BatteryFailure is not null)
        {
            return Reading.Unknown<double>(pass.BatteryFailure, pass.Now);
        }

        uint max = pass.Battery.MaxCapacity;
        return max switch
        {
            UnknownValue => Reading.Unknown<double>(FullUnknownReason, pass.Now),
            0 => Reading.Unknown<double>(FullZeroReason, pass.Now),
            _ when !PowerPlausible.FullCapacityMilliwattHours.Contains(max) =>
                Reading.Unknown<double>(Implausible(PowerPlausible.FullCapacityMilliwattHours, FullSource, max), pass.Now),
            _ => Reading.Measured(max / MilliPerUnit, pass.Now, FullSource),
        };
    }

    /// <summary><c>RemainingCapacity</c> in Wh; more than 1.25 times a known full capacity is Unknown.</summary>
    private Reading<double> Remaining(in Pass pass, Reading<double> full)
    {
        if (pass.BatteryFailure is not null)
        {
            return Reading.Unknown<double>(pass.BatteryFailure, pass.Now);
        }

        uint left = pass.Battery.RemainingCapacity;
        if (left == UnknownValue)
        {
            return Reading.Unknown<double>(RemainingUnknownReason, pass.Now);
        }

        if (!PowerPlausible.CapacityMilliwattHours.Contains(left))
        {
            return Reading.Unknown<double>(Implausible(PowerPlausible.CapacityMilliwattHours, RemainingSource, left), pass.Now);
        }

        if (!full.HasValue)
        {
            // A capacity in relative units (MaxCapacity under 1 Wh) makes the remaining one relative too.
            return pass.Battery.MaxCapacity is > 0 and < 1000 and not UnknownValue
                ? Reading.Unknown<double>(full.Reason!, pass.Now)
                : Reading.Measured(left / MilliPerUnit, pass.Now, RemainingSource);
        }

        double wattHours = left / MilliPerUnit;
        if (wattHours > full.GetValueOrDefault(default) * PowerPlausible.MaxRemainingOverFull)
        {
            return Reading.Unknown<double>(Report(Plausible.OutOfRangeKind, Plausible.Exceeds(
                "remaining battery capacity", RemainingSource, Raw(left), $"full capacity x {PowerPlausible.MaxRemainingOverFull:G}", FullSource, Raw(pass.Battery.MaxCapacity),
                "a gauge reads a few percent over full until it learns its capacity again, not more")), pass.Now);
        }

        return Reading.Measured(wattHours, pass.Now, RemainingSource);
    }

    /// <summary>The ratio of the capacities when both are known, else <c>BatteryLifePercent</c>.</summary>
    private Reading<double> Percent(in Pass pass, Reading<double> remaining, Reading<double> full)
    {
        if (remaining.HasValue && full.HasValue)
        {
            // Up to 1.25 times full (checked above) reads as 100 %.
            double ratio = remaining.GetValueOrDefault(default) / full.GetValueOrDefault(default) * FullPercent;
            return Reading.Measured(Math.Clamp(ratio, 0, FullPercent), pass.Now, PercentCapacitySource);
        }

        if (pass.StatusFailure is not null)
        {
            return Reading.Unknown<double>(pass.StatusFailure, pass.Now);
        }

        byte life = pass.Status.BatteryLifePercent;
        return life == PercentUnknown ? Reading.Unknown<double>(PercentUnknownReason, pass.Now)
            : PowerPlausible.BatteryLifePercent.Contains(life) ? Reading.Measured((double)life, pass.Now, PercentLifeSource)
            : Reading.Unknown<double>(Implausible(PowerPlausible.BatteryLifePercent, StatusCall, life), pass.Now);
    }

    /// <summary>
    /// Discharging wins over Charging (energy leaves the pack); neither is Full at full capacity,
    /// else Not charging; without the battery state, <c>BatteryFlag</c> 8 says Charging and
    /// <c>ACLineStatus</c> 0 Discharging.
    /// </summary>
    private static Reading<ChargeState> State(in Pass pass, Reading<PowerSource> source, Reading<double> remaining, Reading<double> full, Reading<double> percent)
    {
        DateTimeOffset now = pass.Now;
        if (pass.BatteryFailure is null)
        {
            SystemBatteryState b = pass.Battery;
            if (b.Discharging != 0)
            {
                return Reading.Measured(ChargeState.Discharging, now, DischargingSource);
            }

            if (b.Charging != 0)
            {
                return Reading.Measured(ChargeState.Charging, now, ChargingSource);
            }

            if (source.TryGetValue(out PowerSource from) && from == PowerSource.Battery)
            {
                return Reading.Unknown<ChargeState>(IdleOnBatteryReason, now);
            }

            bool atFull = remaining.HasValue && full.HasValue
                ? remaining.GetValueOrDefault(default) >= full.GetValueOrDefault(default)
                : percent.GetValueOrDefault(0) >= FullPercent;
            return atFull
                ? Reading.Estimated(ChargeState.Full, now, IdleFullSource)
                : Reading.Measured(ChargeState.NotCharging, now, IdleBelowFullSource);
        }

        if (pass.StatusFailure is not null)
        {
            return Reading.Unknown<ChargeState>(pass.BatteryFailure, now);
        }

        if ((pass.Status.BatteryFlag & BatteryFlagCharging) != 0)
        {
            return Reading.Measured(ChargeState.Charging, now, FlagChargingSource);
        }

        return pass.Status.ACLineStatus == 0
            ? Reading.Estimated(ChargeState.Discharging, now, OnBatterySource)
            : Reading.Unknown<ChargeState>(FullOrNotChargingReason, now);
    }

    /// <summary>The magnitude of <c>Rate</c> in W; unknown and 0 are Unknown, not 0 W.</summary>
    private Reading<double> Rate(in Pass pass)
    {
        if (pass.BatteryFailure is not null)
        {
            return Reading.Unknown<double>(pass.BatteryFailure, pass.Now);
        }

        int rate = pass.Battery.Rate;
        if (rate == UnknownRate)
        {
            return Reading.Unknown<double>(RateUnknownReason, pass.Now);
        }

        if (rate == 0)
        {
            return Reading.Unknown<double>(ZeroRateReason, pass.Now);
        }

        // The sign says the direction (negative while discharging); the model holds a magnitude.
        double milliwatts = Math.Abs((double)rate);
        return PowerPlausible.RateMilliwatts.Contains(milliwatts)
            ? Reading.Measured(milliwatts / MilliPerUnit, pass.Now, RateSource)
            : Reading.Unknown<double>(Implausible(PowerPlausible.RateMilliwatts, RateSource, rate), pass.Now);
    }

    /// <summary>Windows' <c>EstimatedTime</c>, else <c>BatteryLifeTime</c>, else remaining / rate.</summary>
    private Reading<double> TimeToEmpty(in Pass pass, Reading<double> remaining, Reading<double> rate)
    {
        if (pass.BatteryFailure is null && pass.Battery.EstimatedTime != UnknownValue)
        {
            uint seconds = pass.Battery.EstimatedTime;
            return PowerPlausible.TimeSeconds.Contains(seconds)
                ? Reading.Measured((double)seconds, pass.Now, EstimatedTimeSource)
                : Reading.Unknown<double>(Implausible(PowerPlausible.TimeSeconds, EstimatedTimeSource, seconds), pass.Now);
        }

        if (pass.StatusFailure is null && pass.Status.BatteryLifeTime != UnknownValue)
        {
            uint seconds = pass.Status.BatteryLifeTime;
            return PowerPlausible.TimeSeconds.Contains(seconds)
                ? Reading.Measured((double)seconds, pass.Now, LifeTimeSource)
                : Reading.Unknown<double>(Implausible(PowerPlausible.TimeSeconds, LifeTimeSource, seconds), pass.Now);
        }

        return BatteryTimes.At(remaining, rate, pass.Now, TimeToEmptySource);
    }


    private string Implausible(PlausibleRange range, string source, long raw) =>
        Report(Plausible.OutOfRangeKind, Plausible.Reason(range, source, Raw(raw)));

    private static string Raw(long value) => value.ToString(CultureInfo.InvariantCulture);

    private string Report(string kind, string reason)
    {
        _failures.Report(ProbeName, kind, reason);
        return reason;
    }

    /// <summary>One pass's answers: each call's structure, or why it failed.</summary>
    private readonly record struct Pass(DateTimeOffset Now, SystemPowerStatus Status, string? StatusFailure, SystemBatteryState Battery, string? BatteryFailure);
}
