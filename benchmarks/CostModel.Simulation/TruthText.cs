using System.Globalization;
using CostModel.Testing.Simulation;

namespace CostModel.Simulation;

/// <summary>
/// The words for costmodel's decisions against the truth's cheapest at the instant of each
/// (<see cref="DecisionsAgainstTruth"/>): the report's line and the "why" of a goal missed.
/// </summary>
internal static class TruthText
{
    /// <summary>The report's line: how many decisions went elsewhere, what they cost more, by cause, and the largest.</summary>
    /// <param name="t">The comparison.</param>
    /// <returns>The line (one paragraph).</returns>
    public static string Line(DecisionsAgainstTruth t)
    {
        ArgumentNullException.ThrowIfNull(t);
        string head = F($"costmodel's decisions against the truth's cheapest target at the instant of each ({t.Decisions} decisions): ");
        if (t.Elsewhere == 0)
        {
            return head + "none went to a truly dearer target.";
        }

        return head + Summary(t) + (t.Largest is { } l ? " The largest: " + Largest(l) : "");
    }

    /// <summary>How many went elsewhere and what they cost more, by cause (the causes with none left out).</summary>
    /// <param name="t">The comparison.</param>
    /// <returns>The summary.</returns>
    public static string Summary(DecisionsAgainstTruth t)
    {
        ArgumentNullException.ThrowIfNull(t);
        (string Words, DecisionCause Cause)[] causes =
        [
            ("priced the cheapest by the router", t.Priced),
            ("the truth's cheapest set aside by a filter or not in the view", t.SetAside),
            ("drawn at random", t.Drawn),
            ("kept on a conversation's node", t.Kept),
            ("sent to a failing node", t.Failing),
            ("refused by the truth (a request's constraint broken at the true price, or past the cap)", t.Refused),
        ];
        string parts = string.Join(", ", causes
            .Where(c => c.Cause.Decisions > 0)
            .OrderByDescending(c => c.Cause.ExtraDollars)
            .Select(c => F($"{c.Words} {c.Cause.Decisions} ({c.Cause.ExtraDollars:0.0000} $)")));
        return F($"{t.Elsewhere} of {t.Decisions} went to a truly dearer target or one the truth refuses, {t.ExtraDollars:0.0000} $ more at those instants: {parts}.");
    }

    private static string Largest(DecisionAgainstTruth l)
    {
        string predicted = l.PredictedSeconds is { } p ? F($"predicted {p:0.0} s, ") : "";
        string truly = l.TrueSeconds is { } s ? F($"truly {s:0.0} s") : "truly failing";
        string truthPredicted = l.TruthPredictedSeconds is { } tp ? F($"predicted {tp:0.0} s") : $"set aside: {l.TruthFilteredBy}";
        return F($"at {l.TimeSeconds:0.0} s {l.Router} sent {Article(l.Urgency)} {l.Urgency} request to {l.Target} ({predicted}{truly}) where {l.TruthTarget} ({truthPredicted}, truly {l.TruthTrueSeconds:0.0} s) was {l.ExtraDollars:0.0000} $ cheaper ({l.Cause}).");
    }

    private static string Article(string word) => word.Length > 0 && "aeiou".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
