using CostModel.Factors;

namespace CostModel.Platforms;

/// <summary>
/// Battery times estimated from energy and rate, shared by the power probes that have to derive
/// them (Linux always; Windows when its own estimate is missing): energy over a positive rate,
/// Estimated, and no more than <see cref="PowerFactors.MaxTimeSeconds"/> (30 days). A missing
/// input passes its own reason on.
/// </summary>
internal static class BatteryTimes
{
    internal const string ZeroRateReason = "battery rate reads 0 W; time cannot be estimated";
    internal const string TooLongReason = "more than 30 days at the present rate";
    internal const string NotDischargingReason = "battery is not discharging";
    internal const string NotChargingReason = "battery is not charging";

    private const double SecondsPerHour = 3600;

    /// <summary>
    /// The rule every power probe applies to its battery times: a time to empty only while
    /// discharging, a time to full only while charging. True, with the Unknown reading that says
    /// why (not in that state, or the state's own reason when it is unknown), when the battery is
    /// not in <paramref name="wanted"/>; false when the caller works the time out.
    /// </summary>
    public static bool NotIn(Reading<ChargeState> state, ChargeState wanted, DateTimeOffset now, out Reading<double> unknown)
    {
        if (state.TryGetValue(out ChargeState actual) && actual == wanted)
        {
            unknown = default;
            return false;
        }

        string reason = !state.HasValue ? state.Reason! : wanted == ChargeState.Discharging ? NotDischargingReason : NotChargingReason;
        unknown = Reading.Unknown<double>(reason, now);
        return true;
    }

    /// <summary>Seconds to move <paramref name="energyWh"/> at <paramref name="rateW"/>.</summary>
    public static Reading<double> At(Reading<double> energyWh, Reading<double> rateW, DateTimeOffset now, string source)
    {
        if (!energyWh.HasValue)
        {
            return energyWh;
        }

        if (!rateW.HasValue)
        {
            return rateW;
        }

        if (rateW.GetValueOrDefault(default) <= 0)
        {
            return Reading.Unknown<double>(ZeroRateReason, now);
        }

        double seconds = energyWh.GetValueOrDefault(default) / rateW.GetValueOrDefault(default) * SecondsPerHour;
        return seconds <= PowerFactors.MaxTimeSeconds
            ? Reading.Estimated(seconds, now, source)
            : Reading.Unknown<double>(TooLongReason, now);
    }

    /// <summary>Seconds until a charging battery is full: the missing energy (full - remaining) at the charge rate.</summary>
    public static Reading<double> UntilFull(Reading<double> remainingWh, Reading<double> fullWh, Reading<double> rateW, DateTimeOffset now, string source)
    {
        if (!remainingWh.HasValue)
        {
            return remainingWh;
        }

        if (!fullWh.HasValue)
        {
            return fullWh;
        }

        Reading<double> missing = Reading.Estimated(Math.Max(0, fullWh.GetValueOrDefault(default) - remainingWh.GetValueOrDefault(default)), now, source);
        return At(missing, rateW, now, source);
    }
}
