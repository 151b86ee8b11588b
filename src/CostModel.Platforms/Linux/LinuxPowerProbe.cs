using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Linux;

/// <summary>
/// Power source and batteries from <c>&lt;SysRoot&gt;/class/power_supply/*</c> (the kernel's
/// power supply class; see docs/linux/power.md for every rule).
/// </summary>
/// <remarks>
/// Supplies are classified once per discovery by <c>type</c> (Mains, USB, Battery; others
/// ignored) and <c>scope</c> (Device supplies such as mice and keyboards are ignored). Each pass
/// re-reads the open attribute files only: no directory enumeration, no strings except on failure.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class LinuxPowerProbe : ISignalProbe, IDisposable
{
    /// <summary>The probe's name.</summary>
    public const string ProbeName = "linux.power";

    /// <summary>
    /// How often the supply directory is enumerated again (30 s). Supplies come and go with
    /// USB-C partners and docks, and a swapped battery re-registers; 30 s matches the shortest
    /// stale threshold for power state (DESIGN.md) while keeping enumeration off almost every
    /// pass. A read that finds a file gone ("missing") triggers discovery on the next pass.
    /// </summary>
    internal static readonly TimeSpan RediscoverInterval = Rediscovery.DefaultInterval;

    /// <summary>Reason on battery readings when there is no system battery (desktop, server, VM).</summary>
    internal const string NoBatteryReason = "no system battery";

    /// <summary>
    /// Reason on <see cref="PowerFactors.Source"/> when the kernel reports no system supply at all.
    /// Such a machine (server, VM) is on mains in practice, but that would be a guess.
    /// </summary>
    internal const string NoSupplyReason = "no power supply reported by the kernel";

    // sysfs power supply units (Documentation/ABI/testing/sysfs-class-power): energy in uWh,
    // charge in uAh, power in uW, current in uA, voltage in uV.
    private const double Micro = 1e-6;          // uWh -> Wh, uW -> W
    private const double MicroSquared = 1e-12;  // uA x uV -> W, uAh x uV -> Wh
    private const double FullPercent = 100;

    private const string TimeToEmptySource = "remaining energy / discharge rate";
    private const string TimeToFullSource = "(full - remaining energy) / charge rate";

    /// <summary>Why <see cref="PowerFactors.EnergySaver"/> is Unknown on Linux: its source (power-profiles-daemon's active profile, over D-Bus) is not read yet.</summary>
    internal const string EnergySaverNotReadReason = "the energy saver is not read on Linux yet (power-profiles-daemon's power-saver profile, over D-Bus)";
    private const string StatusUnknownReason = "battery reports status Unknown";
    private const string AcOfflineBatterySource = "AC supplies report offline; battery status does not say Discharging";
    private const string ChargingWithoutAcSource = "battery status Charging, yet no AC supply reports online";
    private const string AcOfflineNoBatteryReason = "AC supplies report offline and there is no system battery";
    private const string NoAcNotDischargingReason = "no AC supply reported and the battery status does not say Discharging";

    /// <summary>
    /// How far above <c>energy_full</c> (<c>charge_full</c>) <c>energy_now</c> may read, as a
    /// ratio: 1.25. A fuel gauge that learned a smaller full capacity (wear, a calibration cycle)
    /// reads a few percent over 100 until it learns again, and that reads as 100 %; a quarter or
    /// more over means the now or the full value is wrong, and the percentage is Unknown.
    /// </summary>
    internal const double MaxLevelOverFull = 1.25;

    private readonly string _sysRoot;
    private readonly string _supplyRoot;
    private readonly IProbeFailureReporter _failures;
    private readonly ProbeReads _reads;
    private AcSupply[] _ac = [];
    private Battery[] _batteries = [];
    private Sources _sources = Sources.Empty;

    // Why the set of supplies is not known (no sysfs, a supply whose type cannot be read), or null.
    private string? _unclassified;
    private readonly Rediscovery _discovery = new(RediscoverInterval);

    public LinuxPowerProbe(IOptions<LinuxProbeOptions> options, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(failures);
        _sysRoot = options.Value.SysRoot;
        _supplyRoot = Path.Combine(_sysRoot, "class", "power_supply");
        _failures = failures;

        // A supply that went away (unplugged dock, swapped battery): enumerate again next pass.
        _reads = new ProbeReads(failures, Name, _discovery.Request);
        Discover();
    }

    public string Name => ProbeName;

    public SignalGroup Group => SignalGroup.Power;

    public void Collect(SnapshotBuilder snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        TimeProvider clock = snapshot.TimeProvider;
        long stamp = clock.GetTimestamp();
        if (_discovery.IsDue(clock, stamp))
        {
            Discover();
        }

        DateTimeOffset now = clock.GetUtcNow();

        // AC adapters and USB power: online is 0 (offline), 1 (fixed) or 2 (programmable supply).
        bool acOnline = false;
        string? acSource = null;
        string? acFailure = null;
        foreach (AcSupply ac in _ac)
        {
            if (_reads.TryReadInt64(ac.Online, Plausible.SupplyOnline, out long online, out string? error))
            {
                if (online != 0 && !acOnline)
                {
                    acOnline = true;
                    acSource = ac.OnlineSource;
                }
            }
            else
            {
                acFailure ??= error;
            }
        }

        int count = 0;
        string? presenceFailure = null;
        foreach (Battery battery in _batteries)
        {
            ReadBattery(battery);
            presenceFailure ??= battery.PresenceFailure;
            if (battery.Counted)
            {
                count++;
            }
        }

        if (_unclassified is { } unclassified)
        {
            snapshot.Power = Unclassified(now, unclassified, acOnline, acSource);
            return;
        }

        Reading<ChargeState> state = count == 0
            ? Reading.NotSupported<ChargeState>(NoBatteryReason, now)
            : CombineState(now);

        PowerFactors power = count == 0
            ? NoBattery(now, acOnline, acSource, acFailure)
            : WithBatteries(now, count, state, acOnline, acSource, acFailure);

        // A battery whose present attribute cannot be read may or may not be there.
        snapshot.Power = presenceFailure is null ? power : power with { BatteryCount = Reading.Unknown<int>(presenceFailure, now) };
    }

    public void Dispose() => DisposeSupplies();

    /// <summary>
    /// A supply could not be classified (or sysfs is not there): it may be a battery or an AC
    /// adapter, so neither the battery count nor the battery figures are known. An AC supply that
    /// reads online still says mains.
    /// </summary>
    private static PowerFactors Unclassified(DateTimeOffset now, string reason, bool acOnline, string? acSource)
    {
        Reading<double> unknown = Reading.Unknown<double>(reason, now);
        return new PowerFactors
        {
            Source = acOnline ? Reading.Measured(PowerSource.Mains, now, acSource!) : Reading.Unknown<PowerSource>(reason, now),
            BatteryCount = Reading.Unknown<int>(reason, now),
            BatteryPercent = unknown,
            ChargeState = Reading.Unknown<ChargeState>(reason, now),
            BatteryRateWatts = unknown,
            RemainingWattHours = unknown,
            FullWattHours = unknown,
            TimeToEmptySeconds = unknown,
            TimeToFullSeconds = unknown,
            EnergySaver = Reading.Unknown<bool>(EnergySaverNotReadReason, now),
        };
    }

    private PowerFactors NoBattery(DateTimeOffset now, bool acOnline, string? acSource, string? acFailure)
    {
        Reading<PowerSource> source =
            acOnline ? Reading.Measured(PowerSource.Mains, now, acSource!)
            : acFailure is not null ? Reading.Unknown<PowerSource>(acFailure, now)
            : _ac.Length > 0 ? Reading.Unknown<PowerSource>(AcOfflineNoBatteryReason, now)
            : Reading.Unknown<PowerSource>(NoSupplyReason, now);
        Reading<double> none = Reading.NotSupported<double>(NoBatteryReason, now);
        return new PowerFactors
        {
            Source = source,
            BatteryCount = Reading.Measured(0, now, _supplyRoot),
            BatteryPercent = none,
            ChargeState = Reading.NotSupported<ChargeState>(NoBatteryReason, now),
            BatteryRateWatts = none,
            RemainingWattHours = none,
            FullWattHours = none,
            TimeToEmptySeconds = none,
            TimeToFullSeconds = none,
            EnergySaver = Reading.Unknown<bool>(EnergySaverNotReadReason, now),
        };
    }

    private PowerFactors WithBatteries(DateTimeOffset now, int count, Reading<ChargeState> state, bool acOnline, string? acSource, string? acFailure)
    {
        Sources src = _sources;
        bool discharging = state.HasValue && state.GetValueOrDefault(default) == ChargeState.Discharging;
        bool charging = state.HasValue && state.GetValueOrDefault(default) == ChargeState.Charging;

        Reading<PowerSource> source =
            acOnline ? Reading.Measured(PowerSource.Mains, now, acSource!)
            : acFailure is not null ? Reading.Unknown<PowerSource>(acFailure, now)
            : discharging ? Reading.Measured(PowerSource.Battery, now, src.Status)
            : charging ? Reading.Estimated(PowerSource.Mains, now, ChargingWithoutAcSource)
            : _ac.Length > 0 ? Reading.Estimated(PowerSource.Battery, now, AcOfflineBatterySource)
            : Reading.Unknown<PowerSource>(NoAcNotDischargingReason, now);

        // Sums over the counted batteries; the first failure (Unknown) wins over the first
        // missing attribute (NotSupported).
        string? percentFailure = null, percentMissing = null;
        string? energyFailure = null, energyMissing = null;
        string? rateFailure = null, rateMissing = null;
        bool allEnergy = true, allCharge = true, allCapacity = true, energyEstimated = false;
        double levelNow = 0, levelFull = 0, percentSum = 0, whNow = 0, whFull = 0, watts = 0;
        foreach (Battery b in _batteries)
        {
            if (!b.Counted)
            {
                continue;
            }

            if (b.LevelFailure is not null)
            {
                percentFailure ??= b.LevelFailure;
            }
            else if (b.LevelMissing is not null)
            {
                percentMissing ??= b.LevelMissing;
            }
            else
            {
                levelNow += b.LevelNow;
                levelFull += b.LevelFull;
                percentSum += b.Percent;
                allEnergy &= b.Basis == LevelBasis.Energy;
                allCharge &= b.Basis == LevelBasis.Charge;
                allCapacity &= b.Basis == LevelBasis.Capacity;
            }

            if (b.EnergyFailure is not null)
            {
                energyFailure ??= b.EnergyFailure;
            }
            else if (b.EnergyMissing is not null)
            {
                energyMissing ??= b.EnergyMissing;
            }
            else
            {
                whNow += b.WattHoursNow;
                whFull += b.WattHoursFull;
                energyEstimated |= b.Basis != LevelBasis.Energy;
            }

            if (b.RateFailure is not null)
            {
                rateFailure ??= b.RateFailure;
            }
            else if (b.RateMissing is not null)
            {
                rateMissing ??= b.RateMissing;
            }
            else
            {
                watts += b.Watts;
            }
        }

        Reading<double> percent;
        if (percentFailure is not null)
        {
            percent = Reading.Unknown<double>(percentFailure, now);
        }
        else if (percentMissing is not null)
        {
            percent = Reading.NotSupported<double>(percentMissing, now);
        }
        else if (allEnergy || allCharge)
        {
            // Several batteries: the ratio of the sums (a mean of percentages would weigh a
            // small battery like a large one). Each full value is > 0 (checked per battery).
            percent = Reading.Measured(ClampPercent(levelNow / levelFull * FullPercent), now, allEnergy ? src.PercentEnergy : src.PercentCharge);
        }
        else if (allCapacity)
        {
            percent = count == 1
                ? Reading.Measured(ClampPercent(percentSum), now, src.PercentCapacity)
                : Reading.Estimated(ClampPercent(percentSum / count), now, src.PercentCapacity);
        }
        else if (energyFailure is null && energyMissing is null && whFull > 0)
        {
            percent = Reading.Estimated(ClampPercent(whNow / whFull * FullPercent), now, src.PercentMixedEnergy);
        }
        else
        {
            percent = Reading.Estimated(ClampPercent(percentSum / count), now, src.PercentMixedMean);
        }

        Reading<double> remaining, full;
        if (energyFailure is not null)
        {
            remaining = full = Reading.Unknown<double>(energyFailure, now);
        }
        else if (energyMissing is not null)
        {
            remaining = full = Reading.NotSupported<double>(energyMissing, now);
        }
        else if (!Plausible.BatteryEnergyMicroWattHours.Contains(whNow / Micro) || !Plausible.BatteryEnergyMicroWattHours.Contains(whFull / Micro))
        {
            // Each battery's values are in range; their sum, or charge x voltage, may not be.
            double worst = Math.Max(whNow, whFull) / Micro;
            string reason = _reads.Implausible(Plausible.BatteryEnergyMicroWattHours, src.EnergyFull, worst.ToString("G6", System.Globalization.CultureInfo.InvariantCulture));
            remaining = full = Reading.Unknown<double>(reason, now);
        }
        else
        {
            remaining = energyEstimated ? Reading.Estimated(whNow, now, src.EnergyNow) : Reading.Measured(whNow, now, src.EnergyNow);
            full = energyEstimated ? Reading.Estimated(whFull, now, src.EnergyFull) : Reading.Measured(whFull, now, src.EnergyFull);
        }

        Reading<double> rate;
        if (rateFailure is not null)
        {
            rate = Reading.Unknown<double>(rateFailure, now);
        }
        else if (rateMissing is not null)
        {
            rate = Reading.NotSupported<double>(rateMissing, now);
        }
        else if (!Plausible.BatteryRateWatts.Contains(watts))
        {
            rate = Reading.Unknown<double>(_reads.Implausible(Plausible.BatteryRateWatts, src.Rate, watts.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)), now);
        }
        else
        {
            rate = Reading.Measured(watts, now, src.Rate);
        }

        Reading<double> toEmpty = BatteryTimes.NotIn(state, ChargeState.Discharging, now, out Reading<double> notDischarging)
            ? notDischarging
            : BatteryTimes.At(remaining, rate, now, TimeToEmptySource);
        Reading<double> toFull = BatteryTimes.NotIn(state, ChargeState.Charging, now, out Reading<double> notCharging)
            ? notCharging
            : BatteryTimes.UntilFull(remaining, full, rate, now, TimeToFullSource);

        return new PowerFactors
        {
            Source = source,
            BatteryCount = Reading.Measured(count, now, _supplyRoot),
            BatteryPercent = percent,
            ChargeState = state,
            BatteryRateWatts = rate,
            RemainingWattHours = remaining,
            FullWattHours = full,
            TimeToEmptySeconds = toEmpty,
            TimeToFullSeconds = toFull,
            EnergySaver = Reading.Unknown<bool>(EnergySaverNotReadReason, now),
        };
    }


    /// <summary>
    /// One state for all batteries: Discharging wins (energy leaves the packs), then Charging,
    /// then a failed read, then Not charging, then Full. A battery reporting "Unknown" (an idle
    /// second battery does) is ignored while another reports a known state.
    /// </summary>
    private Reading<ChargeState> CombineState(DateTimeOffset now)
    {
        bool charging = false, discharging = false, full = false, notCharging = false;
        string? failure = null;
        foreach (Battery b in _batteries)
        {
            if (!b.Counted)
            {
                continue;
            }

            switch (b.State)
            {
                case BatteryStatus.Charging: charging = true; break;
                case BatteryStatus.Discharging: discharging = true; break;
                case BatteryStatus.Full: full = true; break;
                case BatteryStatus.NotCharging: notCharging = true; break;
                case BatteryStatus.Failed: failure ??= b.StateFailure; break;
                default: break;
            }
        }

        string source = _sources.Status;
        return discharging ? Reading.Measured(ChargeState.Discharging, now, source)
            : charging ? Reading.Measured(ChargeState.Charging, now, source)
            : failure is not null ? Reading.Unknown<ChargeState>(failure, now)
            : notCharging ? Reading.Measured(ChargeState.NotCharging, now, source)
            : full ? Reading.Measured(ChargeState.Full, now, source)
            : Reading.Unknown<ChargeState>(StatusUnknownReason, now);
    }

    private void ReadBattery(Battery b)
    {
        b.ResetPass();

        // A removable battery slot can stay registered with present = 0.
        if (b.Present is not null)
        {
            if (!_reads.TryReadInt64(b.Present, Plausible.BatteryPresent, out long present, out string? presentError))
            {
                b.PresenceFailure = presentError;
            }
            else if (present == 0)
            {
                b.Counted = false;
                return;
            }
        }

        b.Counted = true;
        ReadStatus(b);

        switch (b.Basis)
        {
            case LevelBasis.Energy:
                if (TryReadLevel(b, b.EnergyNow!, b.EnergyFull!, Plausible.BatteryEnergyMicroWattHours, out long eNow, out long eFull))
                {
                    b.WattHoursNow = eNow * Micro;
                    b.WattHoursFull = eFull * Micro;
                }
                else
                {
                    b.EnergyFailure = b.LevelFailure;
                }

                break;

            case LevelBasis.Charge:
                bool levelOk = TryReadLevel(b, b.ChargeNow!, b.ChargeFull!, Plausible.BatteryChargeMicroAmpHours, out long cNow, out long cFull);
                if (b.EnergyVoltage is null)
                {
                    b.EnergyMissing = b.NoVoltageReason;
                }
                else if (!levelOk)
                {
                    b.EnergyFailure = b.LevelFailure;
                }
                else if (_reads.TryReadInt64(b.EnergyVoltage, Plausible.BatteryVoltageMicroVolts, out long microvolts, out string? vError))
                {
                    b.WattHoursNow = cNow * (double)microvolts * MicroSquared;
                    b.WattHoursFull = cFull * (double)microvolts * MicroSquared;
                }
                else
                {
                    b.EnergyFailure = vError;
                }

                break;

            case LevelBasis.Capacity:
                if (_reads.TryReadInt64(b.Capacity!, Plausible.BatteryCapacityPercent, out long capacity, out string? cError))
                {
                    b.Percent = capacity;
                }
                else
                {
                    b.LevelFailure = cError;
                }

                b.EnergyMissing = b.CapacityOnlyReason;
                break;

            default:
                b.LevelMissing = b.NoLevelReason;
                b.EnergyMissing = b.NoLevelReason;
                break;
        }

        switch (b.RateKind)
        {
            case RateKind.Power:
                if (_reads.TryReadInt64(b.PowerNow!, out long microwatts, out string? pError))
                {
                    // Some drivers sign the value by direction; the model holds a magnitude.
                    b.Watts = Math.Abs((double)microwatts) * Micro;
                }
                else
                {
                    b.RateFailure = pError;
                }

                break;

            case RateKind.CurrentTimesVoltage:
                if (!_reads.TryReadInt64(b.CurrentNow!, out long microamps, out string? iError))
                {
                    b.RateFailure = iError;
                }
                else if (!_reads.TryReadInt64(b.VoltageNow!, Plausible.BatteryVoltageMicroVolts, out long microvolts, out string? vError))
                {
                    b.RateFailure = vError;
                }
                else
                {
                    b.Watts = Math.Abs((double)microamps) * microvolts * MicroSquared;
                }

                break;

            default:
                b.RateMissing = b.NoRateReason;
                break;
        }
    }

    private void ReadStatus(Battery b)
    {
        if (!b.Status.TryRead(out ReadOnlySpan<byte> content))
        {
            b.State = BatteryStatus.Failed;
            b.StateFailure = _reads.ReportRead(b.Status);
            return;
        }

        ReadOnlySpan<byte> text = KernelText.Trim(content);
        if (text.SequenceEqual("Discharging"u8))
        {
            b.State = BatteryStatus.Discharging;
        }
        else if (text.SequenceEqual("Charging"u8))
        {
            b.State = BatteryStatus.Charging;
        }
        else if (text.SequenceEqual("Full"u8))
        {
            b.State = BatteryStatus.Full;
        }
        else if (text.SequenceEqual("Not charging"u8))
        {
            b.State = BatteryStatus.NotCharging;
        }
        else if (text.SequenceEqual("Unknown"u8))
        {
            b.State = BatteryStatus.Unknown;
        }
        else
        {
            b.State = BatteryStatus.Failed;
            b.StateFailure = _reads.ReportGarbage(b.Status.Path, text, "not a battery status");
        }
    }

    /// <summary>Reads a now/full pair (energy or charge), each within <paramref name="range"/>, and the percentage from it.</summary>
    private bool TryReadLevel(Battery b, KernelFile nowFile, KernelFile fullFile, PlausibleRange range, out long now, out long full)
    {
        full = 0;
        if (!_reads.TryReadInt64(nowFile, range, out now, out string? error) || !_reads.TryReadInt64(fullFile, range, out full, out error))
        {
            b.LevelFailure = error;
            return false;
        }

        if (full == 0)
        {
            // A full value of 0 makes no percentage: a gauge that has not learned its capacity.
            b.LevelFailure = _reads.Implausible(range with { What = range.What + " when full", Min = 1 }, fullFile.Path, fullFile.Excerpt());
            return false;
        }

        double ratio = now / (double)full;
        if (ratio > MaxLevelOverFull)
        {
            b.LevelFailure = _reads.Report(Plausible.OutOfRangeKind, Plausible.Exceeds(
                range.What, nowFile.Path, nowFile.Excerpt(), $"full value x {MaxLevelOverFull:G}", fullFile.Path, fullFile.Excerpt(),
                "a gauge reads a few percent over full until it learns its capacity again, not more"));
            return false;
        }

        b.LevelNow = now;
        b.LevelFull = full;

        // energy_now can exceed energy_full by a little (a stale full value after wear or calibration): 100 %.
        b.Percent = ClampPercent(ratio * FullPercent);
        return true;
    }

    private static double ClampPercent(double percent) => Math.Clamp(percent, 0, FullPercent);

    private void Discover()
    {
        DisposeSupplies();
        _unclassified = null;
        var ac = new List<AcSupply>();
        var batteries = new List<Battery>();
        foreach (string dir in ListSupplies())
        {
            // Every supply has a type; one whose type (or scope) cannot be read may be a battery.
            if (!TryReadAttribute(dir, "type", required: true, out string? type) || type is null
                || !TryReadAttribute(dir, "scope", required: false, out string? scope))
            {
                continue;
            }

            if (scope == "Device")
            {
                // Device scope: a battery inside a mouse, keyboard or headset, not the system's.
                continue;
            }

            if (type is "Mains" or "USB" || type.StartsWith("USB_", StringComparison.Ordinal))
            {
                // "USB_*" are the charger types older kernels used (USB_DCP, USB_PD, USB_C...).
                string online = Path.Combine(dir, "online");
                if (Path.Exists(online))
                {
                    ac.Add(new AcSupply(new KernelFile(online)));
                }
            }
            else if (type == "Battery")
            {
                batteries.Add(new Battery(dir));
            }
        }

        _ac = [.. ac];
        _batteries = [.. batteries];
        _sources = new Sources(_supplyRoot, _batteries);
    }

    private string[] ListSupplies()
    {
        try
        {
            string[] dirs = Directory.GetDirectories(_supplyRoot);
            Array.Sort(dirs, StringComparer.Ordinal);
            return dirs;
        }
        catch (DirectoryNotFoundException)
        {
            string classDir = Path.Combine(_sysRoot, "class");
            if (Directory.Exists(classDir))
            {
                // sysfs is there but the kernel has no power supply class: it knows of no battery.
                return [];
            }

            // No sysfs at all (an empty or wrong SysRoot): nobody can tell whether there is a battery.
            _unclassified = _reads.Report("missing", $"{classDir} does not exist (sysfs not mounted at {_sysRoot}?): cannot tell whether there is a battery");
            return [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _unclassified = _reads.Report(ex is UnauthorizedAccessException ? "access-denied" : "io", $"{_supplyRoot}: {ex.Message}");
            return [];
        }
    }

    /// <summary>
    /// Reads a supply attribute at discovery. An optional attribute that does not exist is null;
    /// anything else that cannot be read (a required attribute that does not exist, permission,
    /// I/O, a FIFO or directory in its place) makes the supply unclassified.
    /// </summary>
    /// <returns>False when the supply cannot be classified (the reason is in <see cref="_unclassified"/>).</returns>
    private bool TryReadAttribute(string dir, string name, bool required, out string? value)
    {
        string path = Path.Combine(dir, name);
        if (KernelFile.TryReadText(path, out string text, out string? kind, out string? error))
        {
            value = text;
            return true;
        }

        value = null;
        if (kind == "missing" && !required)
        {
            return true;
        }

        string reason = _reads.Report(kind ?? "io", $"cannot tell whether {Path.GetFileName(dir)} is a battery: {error}");
        _unclassified ??= reason;
        return false;
    }

    private void DisposeSupplies()
    {
        foreach (AcSupply ac in _ac)
        {
            ac.Online.Dispose();
        }

        foreach (Battery battery in _batteries)
        {
            battery.Dispose();
        }

        _ac = [];
        _batteries = [];
    }

    private enum LevelBasis : byte
    {
        None,
        Energy,
        Charge,
        Capacity,
    }

    private enum RateKind : byte
    {
        None,
        Power,
        CurrentTimesVoltage,
    }

    private enum BatteryStatus : byte
    {
        Unknown,
        Charging,
        Discharging,
        Full,
        NotCharging,
        Failed,
    }

    private sealed class AcSupply(KernelFile online)
    {
        public KernelFile Online { get; } = online;

        public string OnlineSource { get; } = online.Path;
    }

    /// <summary>One system battery: its open attribute files, what it reports, and this pass's values.</summary>
    private sealed class Battery : IDisposable
    {
        public Battery(string dir)
        {
            Name = Path.GetFileName(dir);
            Present = Open(dir, "present");
            Status = new KernelFile(Path.Combine(dir, "status"));
            EnergyNow = Open(dir, "energy_now");
            EnergyFull = Open(dir, "energy_full");
            ChargeNow = Open(dir, "charge_now");
            ChargeFull = Open(dir, "charge_full");
            Capacity = Open(dir, "capacity");
            PowerNow = Open(dir, "power_now");
            CurrentNow = Open(dir, "current_now");
            VoltageNow = Open(dir, "voltage_now");
            VoltageMinDesign = Open(dir, "voltage_min_design");

            Basis = EnergyNow is not null && EnergyFull is not null ? LevelBasis.Energy
                : ChargeNow is not null && ChargeFull is not null ? LevelBasis.Charge
                : Capacity is not null ? LevelBasis.Capacity
                : LevelBasis.None;
            RateKind = PowerNow is not null ? RateKind.Power
                : CurrentNow is not null && VoltageNow is not null ? RateKind.CurrentTimesVoltage
                : RateKind.None;

            // The design voltage is the pack's nominal one; voltage_now drifts with charge and load.
            EnergyVoltage = Basis == LevelBasis.Charge ? VoltageMinDesign ?? VoltageNow : null;

            NoLevelReason = $"{dir} reports neither energy_*, charge_* nor capacity";
            NoRateReason = $"{dir} reports neither power_now nor current_now with voltage_now";
            CapacityOnlyReason = $"{dir} reports only capacity (%), no energy or charge";
            NoVoltageReason = $"{dir} reports charge but no voltage to convert it to energy";
        }

        public string Name { get; }

        public KernelFile? Present { get; }

        public KernelFile Status { get; }

        public KernelFile? EnergyNow { get; }

        public KernelFile? EnergyFull { get; }

        public KernelFile? ChargeNow { get; }

        public KernelFile? ChargeFull { get; }

        public KernelFile? Capacity { get; }

        public KernelFile? PowerNow { get; }

        public KernelFile? CurrentNow { get; }

        public KernelFile? VoltageNow { get; }

        public KernelFile? VoltageMinDesign { get; }

        public KernelFile? EnergyVoltage { get; }

        public LevelBasis Basis { get; }

        public RateKind RateKind { get; }

        public string NoLevelReason { get; }

        public string NoRateReason { get; }

        public string CapacityOnlyReason { get; }

        public string NoVoltageReason { get; }

        // This pass's values. A failure is the Unknown reason; a missing attribute the NotSupported one.
        public bool Counted { get; set; }

        public string? PresenceFailure { get; set; }

        public BatteryStatus State { get; set; }

        public string? StateFailure { get; set; }

        public double LevelNow { get; set; }

        public double LevelFull { get; set; }

        public double Percent { get; set; }

        public string? LevelFailure { get; set; }

        public string? LevelMissing { get; set; }

        public double WattHoursNow { get; set; }

        public double WattHoursFull { get; set; }

        public string? EnergyFailure { get; set; }

        public string? EnergyMissing { get; set; }

        public double Watts { get; set; }

        public string? RateFailure { get; set; }

        public string? RateMissing { get; set; }

        public void ResetPass()
        {
            Counted = false;
            State = BatteryStatus.Unknown;
            StateFailure = PresenceFailure = LevelFailure = LevelMissing = EnergyFailure = EnergyMissing = RateFailure = RateMissing = null;
            LevelNow = LevelFull = Percent = WattHoursNow = WattHoursFull = Watts = 0;
        }

        public void Dispose()
        {
            Present?.Dispose();
            Status.Dispose();
            EnergyNow?.Dispose();
            EnergyFull?.Dispose();
            ChargeNow?.Dispose();
            ChargeFull?.Dispose();
            Capacity?.Dispose();
            PowerNow?.Dispose();
            CurrentNow?.Dispose();
            VoltageNow?.Dispose();
            VoltageMinDesign?.Dispose();
        }

        // Path.Exists, not File.Exists: an attribute that cannot be read must fail visibly, not vanish.
        private static KernelFile? Open(string dir, string name)
        {
            string path = Path.Combine(dir, name);
            return Path.Exists(path) ? new KernelFile(path) : null;
        }
    }

    /// <summary>Source texts for the combined readings, built once per discovery (no strings per pass).</summary>
    private sealed class Sources
    {
        public static readonly Sources Empty = new("", []);

        public Sources(string root, Battery[] batteries)
        {
            string where = batteries.Length switch
            {
                0 => root,
                1 => Path.Combine(root, batteries[0].Name),
                _ => $"{root}/{{{string.Join(',', Names(batteries))}}}",
            };
            bool several = batteries.Length > 1;
            Status = $"{where}/status";
            PercentEnergy = several ? $"{where}: sum of energy_now / sum of energy_full" : $"{where}: energy_now / energy_full";
            PercentCharge = several ? $"{where}: sum of charge_now / sum of charge_full" : $"{where}: charge_now / charge_full";
            PercentCapacity = several ? $"{where}: mean of capacity" : $"{where}/capacity";
            PercentMixedEnergy = $"{where}: energy in Wh (energy_*, or charge_* x voltage)";
            PercentMixedMean = $"{where}: mean of per-battery percentages (units differ)";
            bool allEnergy = true, anyPower = false, anyCurrent = false;
            foreach (Battery b in batteries)
            {
                allEnergy &= b.Basis == LevelBasis.Energy;
                anyPower |= b.RateKind == RateKind.Power;
                anyCurrent |= b.RateKind == RateKind.CurrentTimesVoltage;
            }

            EnergyNow = allEnergy ? $"{where}/energy_now (uWh)" : $"{where}: energy_now, or charge_now x voltage";
            EnergyFull = allEnergy ? $"{where}/energy_full (uWh)" : $"{where}: energy_full, or charge_full x voltage";
            Rate = anyPower && anyCurrent ? $"{where}: power_now, or current_now x voltage_now"
                : anyCurrent ? $"{where}: current_now x voltage_now"
                : $"{where}/power_now (uW)";
        }

        public string Status { get; }

        public string PercentEnergy { get; }

        public string PercentCharge { get; }

        public string PercentCapacity { get; }

        public string PercentMixedEnergy { get; }

        public string PercentMixedMean { get; }

        public string EnergyNow { get; }

        public string EnergyFull { get; }

        public string Rate { get; }

        private static string[] Names(Battery[] batteries)
        {
            string[] names = new string[batteries.Length];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = batteries[i].Name;
            }

            return names;
        }
    }
}
