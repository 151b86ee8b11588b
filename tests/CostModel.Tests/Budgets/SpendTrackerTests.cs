using CostModel.Budgets;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;
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
}
