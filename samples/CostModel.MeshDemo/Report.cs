using System.Globalization;
using System.Text;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.MeshDemo;

/// <summary>Everything the demo prints: aligned one-line decisions, event banners, view lines and the summary table.</summary>
internal sealed class Report(TextWriter output, IReadOnlyList<string> phases)
{
    /// <summary>Half of the last digit shown ($0.00001): smaller money terms are left out of a line.</summary>
    private const double SmallestShownDollars = 0.000005;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private readonly Lock _gate = new();
    private readonly List<(int Phase, bool Job, string Target, double Dollars)> _decisions = [];
    private readonly double[] _phaseSeconds = new double[phases.Count];
    private int _noRoute;

    /// <summary>Prints one line (thread-safe: gossip threads print too).</summary>
    public void Line(string text)
    {
        lock (_gate)
        {
            output.WriteLine(text);
        }
    }

    public void Event(TimeSpan at, string banner) => Line(string.Create(Invariant, $"{Time(at)}  ==== {banner}"));

    public void View(TimeSpan at, string observer, string what, string afterEvent, TimeSpan delay) =>
        Line(string.Create(Invariant, $"{Time(at)}  view  {observer} sees {what} ({delay.TotalSeconds:0.0} s after \"{afterEvent}\")"));

    /// <summary>Counts the time spent in a phase, for the summary.</summary>
    public void PhaseTime(int phase, TimeSpan time)
    {
        lock (_gate)
        {
            _phaseSeconds[phase] += time.TotalSeconds;
        }
    }

    /// <summary>One routed request: when, which, where, at what cost, why, and the runner-up.</summary>
    public void Decision(TimeSpan at, int phase, string request, bool job, RouteDecision decision, RouteExplanation explanation)
    {
        var line = new StringBuilder();
        line.Append(Invariant, $"{Time(at)}  {request,-6}");
        if (!decision.HasTarget)
        {
            line.Append(Invariant, $"  no route: {decision.CandidateCount} candidates, {decision.FilteredCount} filtered");
        }
        else
        {
            CostBreakdown cost = decision.Cost;
            line.Append(Invariant, $"  -> {decision.TargetId,-13} {Dollars(cost.TotalDollars)}  {cost.LatencySeconds,5:0.0} s  {MainMoney(cost),-15}");
            line.Append(Invariant, $"  {Notes(decision.Flags),-9}");
            if (RunnerUp(explanation, decision.TargetId!) is { } next)
            {
                line.Append(Invariant, $"  next {next.TargetId} {Dollars(next.AdjustedTotalDollars)}");
            }

            string[] filtered = [.. explanation.Candidates.Where(c => c.FilteredBy is not null).Select(c => c.TargetId)];
            if (filtered.Length > 0)
            {
                line.Append(Invariant, $", {string.Join(',', filtered)} out");
            }
        }

        lock (_gate)
        {
            if (decision.TargetId is { } target)
            {
                _decisions.Add((phase, job, target, decision.Cost.TotalDollars));
            }
            else
            {
                _noRoute++;
            }

            output.WriteLine(line.ToString().TrimEnd());
        }
    }

    /// <summary>Per target: requests, share and mean cost; per phase: which target won most.</summary>
    public void Summary(TimeSpan elapsed)
    {
        lock (_gate)
        {
            int total = _decisions.Count + _noRoute;
            output.WriteLine();
            output.WriteLine(string.Create(Invariant, $"summary: {total} requests in {elapsed.TotalSeconds:0.0} s{(_noRoute > 0 ? $", {_noRoute} without a route" : "")}"));
            output.WriteLine();
            output.WriteLine("target           requests   share   mean cost");
            output.WriteLine("---------------  --------  ------  ----------");
            foreach (var group in _decisions.GroupBy(d => d.Target).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            {
                output.WriteLine(string.Create(Invariant, $"{group.Key,-15}  {group.Count(),8}  {Share(group.Count(), total),6}  {Dollars(group.Average(d => d.Dollars)),10}"));
            }

            output.WriteLine();
            output.WriteLine("phase                   time  requests  jobs: most chosen     turns: most chosen");
            output.WriteLine("--------------------  ------  --------  --------------------  --------------------");
            for (int p = 0; p < phases.Count; p++)
            {
                var inPhase = _decisions.Where(d => d.Phase == p).ToList();
                string jobs = MostChosen(inPhase.Where(d => d.Job));
                string turns = MostChosen(inPhase.Where(d => !d.Job));
                output.WriteLine(string.Create(Invariant, $"{$"{p + 1} {phases[p]}",-20}  {_phaseSeconds[p],4:0} s  {inPhase.Count,8}  {jobs,-20}  {turns}"));
            }
        }
    }

    private static string MostChosen(IEnumerable<(int Phase, bool Job, string Target, double Dollars)> decisions)
    {
        var list = decisions.ToList();
        if (list.Count == 0)
        {
            return "-";
        }

        var winner = list.GroupBy(d => d.Target).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
        return $"{winner.Key} {Share(winner.Count(), list.Count)}";
    }

    private static string Time(TimeSpan at) => string.Create(Invariant, $"{at.TotalSeconds,5:0.0} s");

    private static string Dollars(double dollars) => string.Create(Invariant, $"${dollars:0.00000}");

    private static string Share(int part, int whole) => string.Create(Invariant, $"{(whole == 0 ? 0 : 100.0 * part / whole):0} %");

    /// <summary>The largest money term: energy, metered network or API.</summary>
    private static string MainMoney(CostBreakdown cost)
    {
        (string Name, double Dollars)[] terms = [("energy", cost.EnergyDollars), ("api", cost.ApiDollars), ("metered", cost.NetworkDollars)];
        (string name, double dollars) = terms.MaxBy(t => t.Dollars);
        return dollars >= SmallestShownDollars ? $"{name} {Dollars(dollars)}" : "";
    }

    private static string Notes(RouteNotes flags)
    {
        var notes = new List<string>(2);
        if (flags.HasFlag(RouteNotes.StickyKept))
        {
            notes.Add("sticky");
        }

        if (flags.HasFlag(RouteNotes.Switched))
        {
            notes.Add("switched");
        }

        if (flags.HasFlag(RouteNotes.StickinessBroken))
        {
            notes.Add("unstuck");
        }

        if (flags.HasFlag(RouteNotes.RandomTieBreak))
        {
            notes.Add("tie-break");
        }

        if (flags.HasFlag(RouteNotes.Panic))
        {
            notes.Add("panic");
        }

        return string.Join(',', notes);
    }

    private static CandidateExplanation? RunnerUp(RouteExplanation explanation, string chosen)
    {
        foreach (CandidateExplanation candidate in explanation.Candidates)
        {
            if (candidate.FilteredBy is null && candidate.TargetId != chosen)
            {
                return candidate;
            }
        }

        return null;
    }
}
