using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Budgets;

/// <summary>
/// What a placed request holds against the spend caps while it is in flight: its predicted money,
/// reserved when it is placed (<see cref="SpendTracker.TryReserve"/>) and settled with the actual
/// cost when it completes (<see cref="SpendTracker.Settle"/>), or released when it is cancelled or
/// its lease expires (<see cref="SpendTracker.Release"/>). A cap thus counts the money of requests
/// in flight, not only of those that finished, and is overrun by at most the difference between a
/// request's prediction and its bill (docs/routing.md, "Spend reservation").
/// </summary>
/// <param name="ApiDollars">The API money predicted, dollars.</param>
/// <param name="OtherMoneyDollars">Energy and metered traffic predicted, dollars (counted by "all money" caps).</param>
/// <param name="ApiDollarsPerOutputToken">The endpoint's price of one generated token, dollars (0 for a mesh node): settles the bill for the tokens actually generated.</param>
/// <param name="PredictedOutputTokens">The generated tokens the prediction assumed.</param>
internal readonly record struct SpendReservation(double ApiDollars, double OtherMoneyDollars, double ApiDollarsPerOutputToken, int PredictedOutputTokens)
{
    /// <summary>True when the request costs no money: nothing is reserved.</summary>
    public bool IsEmpty => !(ApiDollars > 0) && !(OtherMoneyDollars > 0);

    /// <summary>
    /// True when <see cref="SpendTracker.TryReserve"/> counted this reservation against the caps
    /// (some cap was configured then); only a held reservation is taken back by
    /// <see cref="SpendTracker.Settle"/> or <see cref="SpendTracker.Release"/>.
    /// </summary>
    public bool Held { get; init; }

    /// <summary>The reservation of a placed request: the money of its predicted cost.</summary>
    /// <param name="cost">The chosen target's predicted cost.</param>
    /// <param name="price">The endpoint's token price; null for a mesh node.</param>
    /// <param name="predictedOutputTokens">The request's estimated generated tokens.</param>
    public static SpendReservation For(in CostBreakdown cost, TokenPrice? price, int predictedOutputTokens) =>
        new(
            Math.Max(0, cost.ApiDollars),
            Math.Max(0, cost.EnergyDollars + cost.NetworkDollars),
            price is { } p && cost.ApiDollars > 0 ? Math.Max(0, p.OutputDollarsPerMillionTokens / DefaultCostScorer.TokensPerMillion) : 0,
            predictedOutputTokens);

    /// <summary>
    /// True when the configured filters enforce the spend caps (the <c>spend-caps</c> filter is
    /// among them): a reservation the caps have no room for is then refused. Without the filter the
    /// caps are only counted.
    /// </summary>
    /// <param name="filters">The filters in force.</param>
    public static bool EnforcedBy(IRouteFilter[] filters)
    {
        foreach (IRouteFilter filter in filters)
        {
            if (filter is SpendCapFilter)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The API money the request actually cost: the prompt as predicted (its tokens were known when
    /// it was placed) plus the tokens the outcome reports at the endpoint's price. An outcome that
    /// reports no tokens is billed as predicted (a host that does not count them must not make paid
    /// work look free); a failed request is not billed (providers charge for completions).
    /// </summary>
    /// <param name="outcome">What happened.</param>
    public double ActualApiDollars(in RouteOutcome outcome)
    {
        if (!outcome.Succeeded)
        {
            return 0;
        }

        if (outcome.OutputTokens <= 0 || ApiDollarsPerOutputToken <= 0)
        {
            return ApiDollars;
        }

        return Math.Max(0, ApiDollars + ((outcome.OutputTokens - (double)PredictedOutputTokens) * ApiDollarsPerOutputToken));
    }

    /// <summary>Energy and metered traffic the request cost: as predicted when it succeeded (neither is measured per request), nothing when it failed (as before reservations).</summary>
    /// <param name="outcome">What happened.</param>
    public double ActualOtherMoneyDollars(in RouteOutcome outcome) => outcome.Succeeded ? OtherMoneyDollars : 0;
}
