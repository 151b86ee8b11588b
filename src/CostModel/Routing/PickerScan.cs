namespace CostModel.Routing;

/// <summary>
/// The picker's searches over the candidates it admits (verdict at most a given one): the first of
/// the cheapest, and its near-equals (every admitted candidate whose total is at most
/// <see cref="NearLimit"/> of the cheapest). <see cref="Scan"/> finds the cheapest and keeps the
/// candidates that may be near it in one pass; <see cref="Near"/> then keeps those that are.
/// </summary>
internal static class PickerScan
{
    /// <summary>
    /// 1/8: up to this spread tolerance, the near-equals' limit grows with the cheapest even after
    /// rounding (the product's rounding error is under half the step between two totals), so a
    /// final near-equal was within the limit of the cheapest found before it and <see cref="Scan"/>
    /// kept it. For a wider tolerance (options allow up to 1), <see cref="Near"/> searches all again.
    /// </summary>
    public const double MaxOnePassTolerance = 0.125;

    /// <summary>The most a near-equal of <paramref name="cheapest"/> may cost: within the spread tolerance, plus the hysteresis margin.</summary>
    public static double NearLimit(double cheapest, double tolerance, double epsilonDollars) =>
        cheapest + (Math.Abs(cheapest) * tolerance) + epsilonDollars;

    /// <summary>
    /// Returns the first admitted candidate of the cheapest (the first admitted one, replaced by each
    /// later one strictly cheaper; -1 for none), and writes to <paramref name="maybe"/>, in order,
    /// every admitted candidate within the limit of the cheapest found up to it.
    /// </summary>
    /// <param name="verdicts">The candidates' verdicts.</param>
    /// <param name="totals">The candidates' adjusted totals.</param>
    /// <param name="admit">The worst verdict admitted.</param>
    /// <param name="tolerance">The spread tolerance.</param>
    /// <param name="epsilonDollars">The hysteresis margin.</param>
    /// <param name="maybe">Room for every candidate.</param>
    /// <param name="kept">How many were written to <paramref name="maybe"/>.</param>
    public static int Scan(ReadOnlySpan<byte> verdicts, ReadOnlySpan<double> totals, byte admit, double tolerance, double epsilonDollars, Span<int> maybe, out int kept)
    {
        totals = totals[..verdicts.Length];
        maybe = maybe[..verdicts.Length];
        int best = -1;
        double cheapest = 0;
        double limit = 0;
        kept = 0;
        for (int i = 0; i < verdicts.Length; i++)
        {
            if (verdicts[i] > admit)
            {
                continue;
            }

            double total = totals[i];
            if (best < 0 || total < cheapest)
            {
                best = i;
                cheapest = total;
                limit = NearLimit(cheapest, tolerance, epsilonDollars);
            }

            if (total <= limit)
            {
                maybe[kept++] = i;
            }
        }

        return best;
    }

    /// <summary>
    /// Writes to <paramref name="near"/>, in order, the near-equals of <paramref name="cheapest"/> and
    /// returns how many: from the <paramref name="kept"/> candidates <see cref="Scan"/> left at its
    /// start (the same span) when the tolerance allows, otherwise from all.
    /// </summary>
    /// <param name="verdicts">The candidates' verdicts.</param>
    /// <param name="totals">The candidates' adjusted totals.</param>
    /// <param name="admit">The worst verdict admitted.</param>
    /// <param name="cheapest">The cheapest total.</param>
    /// <param name="tolerance">The spread tolerance.</param>
    /// <param name="epsilonDollars">The hysteresis margin.</param>
    /// <param name="near">What <see cref="Scan"/> wrote to its <c>maybe</c>, with room for every candidate.</param>
    /// <param name="kept">How many <see cref="Scan"/> kept.</param>
    public static int Near(ReadOnlySpan<byte> verdicts, ReadOnlySpan<double> totals, byte admit, double cheapest, double tolerance, double epsilonDollars, Span<int> near, int kept)
    {
        double limit = NearLimit(cheapest, tolerance, epsilonDollars);
        int count = 0;
        if (tolerance <= MaxOnePassTolerance)
        {
            for (int k = 0; k < kept; k++)
            {
                int i = near[k];
                if (totals[i] <= limit)
                {
                    near[count++] = i;
                }
            }

            return count;
        }

        for (int i = 0; i < verdicts.Length; i++)
        {
            if (verdicts[i] <= admit && totals[i] <= limit)
            {
                near[count++] = i;
            }
        }

        return count;
    }
}
