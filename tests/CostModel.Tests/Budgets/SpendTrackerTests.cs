using CostModel.Budgets;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Budgets;

public sealed class SpendTrackerTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 22, 0, 0, TimeSpan.Zero));
    private ServiceProvider? _provider;

    public void Dispose() => _provider?.Dispose();

    private SpendTracker Build(params SpendCap[] caps)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddCostModel().Configure<BudgetOptions>(o => o.SpendCaps.AddRange(caps));
        _provider = services.BuildServiceProvider();
        return _provider.GetRequiredService<SpendTracker>();
    }

    private static CostBreakdown Api(double dollars) => new() { ApiDollars = dollars };

    [Fact]
    public void Without_caps_anything_may_be_spent() => Assert.True(Build().CanSpend(Api(1_000)));

    [Fact]
    public void A_daily_cap_refuses_what_would_overrun_it_and_resets_at_utc_midnight()
    {
        SpendTracker tracker = Build(new SpendCap { Name = "daily api", Window = TimeSpan.FromDays(1), MaxDollars = 5 });

        tracker.Record(Api(4));
        Assert.True(tracker.CanSpend(Api(1)));
        Assert.False(tracker.CanSpend(Api(1.01)));
        (string name, double spent, double remaining, DateTimeOffset ends) = Assert.Single(tracker.Status());
        Assert.Equal(("daily api", 4.0, 1.0), (name, spent, remaining));
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero), ends);

        _time.Advance(TimeSpan.FromHours(2));
        Assert.True(tracker.CanSpend(Api(5)));
    }

    [Fact]
    public void Api_scope_ignores_energy_and_all_scope_counts_it()
    {
        SpendTracker tracker = Build(
            new SpendCap { Name = "api", MaxDollars = 1, Scope = SpendScope.Api },
            new SpendCap { Name = "all", MaxDollars = 2, Scope = SpendScope.All });
        var energyOnly = new CostBreakdown { EnergyDollars = 1.5 };

        tracker.Record(energyOnly);

        Assert.True(tracker.CanSpend(Api(0.4)));
        Assert.False(tracker.CanSpend(Api(0.6)));
        Assert.Equal(1.5, tracker.Status()[1].SpentDollars);
        Assert.Equal(0, tracker.Status()[0].SpentDollars);
    }

    [Fact]
    public void Every_cap_must_have_room()
    {
        SpendTracker tracker = Build(
            new SpendCap { Name = "hourly", Window = TimeSpan.FromHours(1), MaxDollars = 1 },
            new SpendCap { Name = "daily", Window = TimeSpan.FromDays(1), MaxDollars = 3 });
        _time.Advance(TimeSpan.FromHours(10)); // 08:00 UTC: the next three hours stay within one day

        for (int hour = 0; hour < 3; hour++)
        {
            tracker.Record(Api(1));
            _time.Advance(TimeSpan.FromHours(1));
        }

        // New hour (room in the hourly cap), but the day's 3 dollars are spent until midnight.
        Assert.False(tracker.CanSpend(Api(0.5)));
    }

    private static SpendReservation Reservation(double api, double other = 0, double perOutputToken = 0, int outputTokens = 0) =>
        new(api, other, perOutputToken, outputTokens);

    [Fact]
    public void What_is_reserved_counts_against_the_cap_until_it_is_settled_or_released()
    {
        SpendTracker tracker = Build(new SpendCap { Name = "daily", MaxDollars = 1 });

        SpendReservation held = Reservation(0.6);
        Assert.True(tracker.TryReserve(ref held, enforceCaps: true));
        Assert.True(held.Held);
        Assert.False(tracker.CanSpend(Api(0.5)));
        SpendReservation refused = Reservation(0.5);
        Assert.False(tracker.TryReserve(ref refused, enforceCaps: true));
        Assert.False(refused.Held);
        Assert.Equal(0.6, tracker.ReservedDollars(SpendScope.Api), 12);

        tracker.Release(held);

        Assert.Equal(0, tracker.ReservedDollars(SpendScope.Api));
        Assert.True(tracker.CanSpend(Api(1)));
        Assert.Equal(0, tracker.Status()[0].SpentDollars);
    }

    [Fact]
    public void Settling_records_the_actual_cost_not_the_reserved_one()
    {
        SpendTracker tracker = Build(new SpendCap { Name = "daily", MaxDollars = 1 });
        SpendReservation reservation = Reservation(0.2);
        Assert.True(tracker.TryReserve(ref reservation, enforceCaps: true));

        tracker.Settle(reservation, apiDollars: 0.35, otherMoneyDollars: 0);

        Assert.Equal(0, tracker.ReservedDollars(SpendScope.Api));
        Assert.Equal(0.35, tracker.Status()[0].SpentDollars, 12);
        Assert.True(tracker.CanSpend(Api(0.65)));
        Assert.False(tracker.CanSpend(Api(0.66)));
    }

    [Fact]
    public void Without_enforcement_a_reservation_past_the_cap_is_counted_not_refused()
    {
        SpendTracker tracker = Build(new SpendCap { Name = "daily", MaxDollars = 1 });

        SpendReservation reservation = Reservation(1.5);
        Assert.True(tracker.TryReserve(ref reservation, enforceCaps: false));

        Assert.Equal(1.5, tracker.ReservedDollars(SpendScope.Api));
        Assert.False(tracker.CanSpend(Api(0.01)));
    }

    [Fact]
    public void An_all_money_cap_counts_reserved_energy_and_traffic_and_an_api_cap_does_not()
    {
        SpendTracker tracker = Build(
            new SpendCap { Name = "api", MaxDollars = 1, Scope = SpendScope.Api },
            new SpendCap { Name = "all", MaxDollars = 1, Scope = SpendScope.All });

        SpendReservation energy = Reservation(0, other: 0.8);
        Assert.True(tracker.TryReserve(ref energy, enforceCaps: true));

        Assert.Equal(0, tracker.ReservedDollars(SpendScope.Api));
        Assert.Equal(0.8, tracker.ReservedDollars(SpendScope.All), 12);
        SpendReservation tooMuch = Reservation(0.3);
        Assert.False(tracker.TryReserve(ref tooMuch, enforceCaps: true)); // the "all" cap: 0.8 + 0.3 > 1
        SpendReservation fits = Reservation(0.2);
        Assert.True(tracker.TryReserve(ref fits, enforceCaps: true));
    }

    [Fact]
    public void A_request_in_flight_across_midnight_counts_against_the_new_day_and_is_billed_there()
    {
        SpendTracker tracker = Build(new SpendCap { Name = "daily", MaxDollars = 1 }); // the clock is at 22:00 UTC
        tracker.Record(Api(0.9));
        SpendReservation reservation = Reservation(0.1);
        Assert.True(tracker.TryReserve(ref reservation, enforceCaps: true));

        _time.Advance(TimeSpan.FromHours(2)); // a new day: yesterday's 0.9 $ no longer counts, the reservation does

        Assert.True(tracker.CanSpend(Api(0.9)));
        Assert.False(tracker.CanSpend(Api(0.91)));
        tracker.Settle(reservation, 0.1, 0);
        Assert.Equal(0.1, tracker.Status()[0].SpentDollars, 12);
    }

    [Fact]
    public void Concurrent_reservations_never_pass_the_cap_together()
    {
        SpendTracker tracker = Build(new SpendCap { Name = "daily", MaxDollars = 1 });
        int reserved = 0;

        Parallel.For(0, 1_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            SpendReservation reservation = Reservation(0.03);
            if (tracker.TryReserve(ref reservation, enforceCaps: true))
            {
                Interlocked.Increment(ref reserved);
            }
        });

        Assert.Equal(33, reserved); // 33 x 0.03 = 0.99; a 34th would make 1.02
    }

    [Fact]
    public void Without_a_cap_nothing_is_held_and_a_cap_configured_meanwhile_counts_the_request_when_it_completes()
    {
        var monitor = new ChangingOptions(new BudgetOptions());
        using var tracker = new SpendTracker(monitor, _time);
        SpendReservation reservation = Reservation(0.4);

        Assert.True(tracker.TryReserve(ref reservation, enforceCaps: true));
        Assert.False(reservation.Held);

        monitor.Set(new BudgetOptions { SpendCaps = [new SpendCap { Name = "daily", MaxDollars = 1 }] });
        Assert.Equal(0, tracker.ReservedDollars(SpendScope.Api)); // placed before the cap: not in flight against it
        tracker.Settle(reservation, apiDollars: 0.4, otherMoneyDollars: 0);

        Assert.Equal(0, tracker.ReservedDollars(SpendScope.Api));
        Assert.Equal(0.4, tracker.Status()[0].SpentDollars, 12);
    }

    [Fact]
    public void A_reservation_settles_the_tokens_actually_generated_at_the_endpoints_price()
    {
        // 1,000 prompt tokens at 2.5 $/M and 500 predicted output tokens at 10 $/M.
        var reservation = SpendReservation.For(new CostBreakdown { ApiDollars = 0.0075 }, new TokenPrice(2.5, 10), 500);

        Assert.Equal(0.0025 + 0.008, reservation.ActualApiDollars(new CostModel.Routing.RouteOutcome(true, 3, 800)), 12);
        Assert.Equal(0.0025 + 0.001, reservation.ActualApiDollars(new CostModel.Routing.RouteOutcome(true, 3, 100)), 12);
        Assert.Equal(0.0075, reservation.ActualApiDollars(new CostModel.Routing.RouteOutcome(true, 3, 0)), 12); // no count reported: as predicted
        Assert.Equal(0, reservation.ActualApiDollars(new CostModel.Routing.RouteOutcome(false, 3, 0)));
    }

    /// <summary>Options a test changes while the tracker follows them.</summary>
    private sealed class ChangingOptions(BudgetOptions value) : IOptionsMonitor<BudgetOptions>
    {
        private Action<BudgetOptions, string?>? _listeners;

        public BudgetOptions CurrentValue { get; private set; } = value;

        public BudgetOptions Get(string? name) => CurrentValue;

        public IDisposable? OnChange(Action<BudgetOptions, string?> listener)
        {
            _listeners += listener;
            return null;
        }

        public void Set(BudgetOptions options)
        {
            CurrentValue = options;
            _listeners?.Invoke(options, Options.DefaultName);
        }
    }
}
