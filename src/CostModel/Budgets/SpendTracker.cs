using CostModel.DependencyInjection;
using CostModel.Scoring;
using Microsoft.Extensions.Options;

namespace CostModel.Budgets;

/// <summary>
/// Tracks spending against the configured caps, per aligned time window, on the injected clock.
/// The router asks <see cref="CanSpend"/> before choosing a paid target and reports what was
/// actually spent with <see cref="Record"/>. Thread-safe.
/// </summary>
internal sealed class SpendTracker : IDisposable
{
    private readonly TimeProvider _time;

    // Read once per change: the router asks for every paid candidate.
    private readonly LiveOptions<BudgetOptions> _options;

    private BudgetOptions Current => _options.Current;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long WindowStartTicks, double Spent)> _spent = new(StringComparer.Ordinal);

    /// <summary>Creates a tracker over the configured caps.</summary>
    /// <param name="options">The caps, followed live.</param>
    /// <param name="time">The clock.</param>
    public SpendTracker(IOptionsMonitor<BudgetOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = new LiveOptions<BudgetOptions>(options);
        _time = time;
    }

    /// <summary>Stops following option changes.</summary>
    public void Dispose() => _options.Dispose();

    /// <summary>True when any spend cap is configured (without one, <see cref="CanSpend"/> is always true).</summary>
    internal bool HasCaps => Current.SpendCaps.Count > 0;

    /// <summary>True when every cap has room for <paramref name="cost"/> in its current window.</summary>
    /// <param name="cost">The candidate's cost.</param>
    public bool CanSpend(in CostBreakdown cost)
    {
        List<SpendCap> caps = Current.SpendCaps;
        if (caps.Count == 0)
        {
            return true;
        }

        long now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            foreach (SpendCap cap in caps)
            {
                double amount = Amount(cap, cost);
                if (amount > 0 && SpentIn(cap, now) + amount > cap.MaxDollars)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Records money spent (call it with the actual cost when a request completes).</summary>
    /// <param name="cost">What the request cost.</param>
    public void Record(in CostBreakdown cost)
    {
        List<SpendCap> caps = Current.SpendCaps;
        long now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            foreach (SpendCap cap in caps)
            {
                double amount = Amount(cap, cost);
                if (amount > 0)
                {
                    long start = WindowStart(cap, now);
                    _spent[Key(cap)] = (start, SpentIn(cap, now) + amount);
                }
            }
        }
    }

    /// <summary>How much each cap has left in its current window.</summary>
    public IReadOnlyList<(string Name, double SpentDollars, double RemainingDollars, DateTimeOffset WindowEnds)> Status()
    {
        List<SpendCap> caps = Current.SpendCaps;
        long now = _time.GetUtcNow().UtcTicks;
        var status = new List<(string, double, double, DateTimeOffset)>(caps.Count);
        lock (_gate)
        {
            foreach (SpendCap cap in caps)
            {
                double spent = SpentIn(cap, now);
                status.Add((cap.Name, spent, Math.Max(0, cap.MaxDollars - spent), new DateTimeOffset(WindowStart(cap, now) + cap.Window.Ticks, TimeSpan.Zero)));
            }
        }

        return status;
    }

    private static double Amount(SpendCap cap, in CostBreakdown cost) =>
        cap.Scope == SpendScope.Api ? cost.ApiDollars : cost.MoneyDollars;

    private static long WindowStart(SpendCap cap, long nowTicks)
    {
        long unixTicks = nowTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return nowTicks - (unixTicks % cap.Window.Ticks);
    }

    private static string Key(SpendCap cap) => $"{cap.Name}|{cap.Window.Ticks}|{cap.Scope}";

    private double SpentIn(SpendCap cap, long nowTicks) =>
        _spent.TryGetValue(Key(cap), out (long WindowStartTicks, double Spent) entry) && entry.WindowStartTicks == WindowStart(cap, nowTicks)
            ? entry.Spent
            : 0;
}
