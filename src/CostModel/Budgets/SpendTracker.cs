using CostModel.DependencyInjection;
using CostModel.Scoring;
using Microsoft.Extensions.Options;

namespace CostModel.Budgets;

/// <summary>
/// Tracks spending against the configured caps, per aligned time window, on the injected clock.
/// The router asks <see cref="CanSpend"/> before choosing a paid target, reserves the predicted
/// money of the request it places (<see cref="TryReserve"/>) and settles it with the actual cost when
/// the request completes (<see cref="Settle"/>) or releases it when the request is cancelled or its
/// lease expires (<see cref="Release"/>). What is reserved counts against every cap of its scope
/// until then, so requests in flight cannot together overrun a cap that each alone would fit.
/// Thread-safe.
/// </summary>
internal sealed class SpendTracker : IDisposable
{
    private readonly TimeProvider _time;

    // Read once per change: the router asks for every paid candidate.
    private readonly LiveOptions<BudgetOptions> _options;

    private BudgetOptions Current => _options.Current;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long WindowStartTicks, double Spent)> _spent = new(StringComparer.Ordinal);

    // Money reserved by requests in flight, by scope (under _gate). Not per window: a request placed
    // before a window ends is billed in the next, so it counts against whichever window is current.
    // Per scope, not per cap: caps may change while requests are in flight.
    private double _reservedApi;
    private double _reservedOther;
    private int _reservations;

    // The caps' keys, built once per options instance (a key per cap per call would allocate on the routing path).
    private (BudgetOptions Options, string[] Keys) _keys = (new BudgetOptions(), []);

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

    /// <summary>True when every cap has room for <paramref name="cost"/> in its current window, beyond what is spent there and reserved by requests in flight.</summary>
    /// <param name="cost">The candidate's cost.</param>
    public bool CanSpend(in CostBreakdown cost)
    {
        BudgetOptions options = Current;
        List<SpendCap> caps = options.SpendCaps;
        if (caps.Count == 0)
        {
            return true;
        }

        long now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            string[] keys = KeysOf(options);
            for (int i = 0; i < caps.Count && i < keys.Length; i++)
            {
                SpendCap cap = caps[i];
                double amount = Amount(cap, cost);
                if (amount > 0 && SpentIn(cap, keys[i], now) + ReservedFor(cap.Scope) + amount > cap.MaxDollars)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Reserves a placed request's predicted money: it counts against every cap of its scope until
    /// <see cref="Settle"/> or <see cref="Release"/>. With <paramref name="enforceCaps"/>, refuses
    /// (and reserves nothing) when a cap has no room for it any more: the check and the reservation
    /// are one step, so requests placed by several routing threads at once cannot together pass a cap
    /// that <see cref="CanSpend"/> said each fits. Without any cap configured nothing is counted
    /// (no lock, no clock read: the routing path of a mesh without caps pays nothing for them); a
    /// request placed then and completing after a cap is configured counts against it when it
    /// completes (<see cref="Settle"/> records its actual cost), not while in flight.
    /// </summary>
    /// <param name="reservation">The request's reservation; marked <see cref="SpendReservation.Held"/> when counted.</param>
    /// <param name="enforceCaps">True to refuse what a cap has no room for (the router's spend-caps filter is configured); false to reserve whatever the caps say.</param>
    /// <returns>True when reserved or nothing needed reserving (a request that costs no money, or no cap configured).</returns>
    public bool TryReserve(ref SpendReservation reservation, bool enforceCaps)
    {
        BudgetOptions options = Current;
        List<SpendCap> caps = options.SpendCaps;
        if (reservation.IsEmpty || caps.Count == 0)
        {
            return true;
        }

        long now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            if (enforceCaps)
            {
                string[] keys = KeysOf(options);
                for (int i = 0; i < caps.Count && i < keys.Length; i++)
                {
                    SpendCap cap = caps[i];
                    double amount = cap.Scope == SpendScope.Api ? reservation.ApiDollars : reservation.ApiDollars + reservation.OtherMoneyDollars;
                    if (amount > 0 && SpentIn(cap, keys[i], now) + ReservedFor(cap.Scope) + amount > cap.MaxDollars)
                    {
                        return false;
                    }
                }
            }

            _reservedApi += reservation.ApiDollars;
            _reservedOther += reservation.OtherMoneyDollars;
            _reservations++;
        }

        reservation = reservation with { Held = true };
        return true;
    }

    /// <summary>Releases a reservation without spending (the request was cancelled, or its lease expired with no outcome).</summary>
    /// <param name="reservation">The reservation made when the request was placed.</param>
    public void Release(in SpendReservation reservation) => Settle(in reservation, 0, 0);

    /// <summary>Releases a reservation and records what the request actually cost in the current window.</summary>
    /// <param name="reservation">The reservation made when the request was placed.</param>
    /// <param name="apiDollars">The API money actually spent.</param>
    /// <param name="otherMoneyDollars">The energy and metered traffic actually paid for.</param>
    public void Settle(in SpendReservation reservation, double apiDollars, double otherMoneyDollars)
    {
        if (reservation.Held)
        {
            lock (_gate)
            {
                // The sums return to exactly zero with the last reservation: no rounding residue accumulates.
                if (--_reservations <= 0)
                {
                    _reservations = 0;
                    _reservedApi = 0;
                    _reservedOther = 0;
                }
                else
                {
                    _reservedApi = Math.Max(0, _reservedApi - reservation.ApiDollars);
                    _reservedOther = Math.Max(0, _reservedOther - reservation.OtherMoneyDollars);
                }
            }
        }

        if (apiDollars > 0 || otherMoneyDollars > 0)
        {
            Record(new CostBreakdown { ApiDollars = Math.Max(0, apiDollars), EnergyDollars = Math.Max(0, otherMoneyDollars) });
        }
    }

    /// <summary>Money reserved by requests in flight that a cap of <paramref name="scope"/> counts, dollars.</summary>
    /// <param name="scope">The cap's scope.</param>
    public double ReservedDollars(SpendScope scope)
    {
        lock (_gate)
        {
            return ReservedFor(scope);
        }
    }

    /// <summary>Records money spent (call it with the actual cost when a request completes).</summary>
    /// <param name="cost">What the request cost.</param>
    public void Record(in CostBreakdown cost)
    {
        BudgetOptions options = Current;
        List<SpendCap> caps = options.SpendCaps;
        if (caps.Count == 0)
        {
            return;
        }

        long now = _time.GetUtcNow().UtcTicks;
        lock (_gate)
        {
            string[] keys = KeysOf(options);
            for (int i = 0; i < caps.Count && i < keys.Length; i++)
            {
                SpendCap cap = caps[i];
                double amount = Amount(cap, cost);
                if (amount > 0)
                {
                    long start = WindowStart(cap, now);
                    _spent[keys[i]] = (start, SpentIn(cap, keys[i], now) + amount);
                }
            }
        }
    }

    /// <summary>How much each cap has spent and has left in its current window (what is reserved by requests in flight is not spent, and not deducted here: see <see cref="ReservedDollars"/>).</summary>
    public IReadOnlyList<(string Name, double SpentDollars, double RemainingDollars, DateTimeOffset WindowEnds)> Status()
    {
        BudgetOptions options = Current;
        List<SpendCap> caps = options.SpendCaps;
        long now = _time.GetUtcNow().UtcTicks;
        var status = new List<(string, double, double, DateTimeOffset)>(caps.Count);
        lock (_gate)
        {
            string[] keys = KeysOf(options);
            for (int i = 0; i < caps.Count && i < keys.Length; i++)
            {
                SpendCap cap = caps[i];
                double spent = SpentIn(cap, keys[i], now);
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

    private double SpentIn(SpendCap cap, string key, long nowTicks) =>
        _spent.TryGetValue(key, out (long WindowStartTicks, double Spent) entry) && entry.WindowStartTicks == WindowStart(cap, nowTicks)
            ? entry.Spent
            : 0;

    private double ReservedFor(SpendScope scope) => scope == SpendScope.Api ? _reservedApi : _reservedApi + _reservedOther;

    /// <summary>The keys of <paramref name="options"/>' caps, in order (under _gate).</summary>
    private string[] KeysOf(BudgetOptions options)
    {
        if (!ReferenceEquals(_keys.Options, options) || _keys.Keys.Length != options.SpendCaps.Count)
        {
            _keys = (options, [.. options.SpendCaps.Select(Key)]);
        }

        return _keys.Keys;
    }
}
