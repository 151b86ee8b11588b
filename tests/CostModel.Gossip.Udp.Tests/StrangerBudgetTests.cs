using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Gossip.Udp.Tests;

public sealed class StrangerBudgetTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Each_address_has_its_own_budget()
    {
        var budget = new StrangerBudget(perAddress: new(Burst: 2, PerSecond: 1), overall: new(Burst: 100, PerSecond: 1), _time);

        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1));
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1));
        Assert.Equal(BudgetVerdict.AddressSpent, budget.TryTake(A, 1));
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(B, 1)); // A's flood costs B nothing

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1));
    }

    [Fact]
    public void All_addresses_share_one_budget_and_a_refusal_there_costs_the_address_nothing()
    {
        var budget = new StrangerBudget(perAddress: new(Burst: 2, PerSecond: 1), overall: new(Burst: 3, PerSecond: 1), _time);

        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1));
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1));
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(B, 1));
        Assert.Equal(BudgetVerdict.OverallSpent, budget.TryTake(B, 1));

        // One second refills one shared token; B still has the token the refusal gave back, plus one.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(B, 1));
        Assert.Equal(BudgetVerdict.OverallSpent, budget.TryTake(B, 1));
    }

    [Fact]
    public void An_address_spent_does_not_touch_the_shared_budget()
    {
        var budget = new StrangerBudget(perAddress: new(Burst: 1, PerSecond: 1), overall: new(Burst: 2, PerSecond: 1), _time);

        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1));
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(BudgetVerdict.AddressSpent, budget.TryTake(A, 1));
        }

        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(B, 1)); // the shared budget still had B's token
    }

    [Fact]
    public void Addresses_are_bounded_refilled_ones_are_forgotten_first_and_spent_ones_are_kept_while_any_is()
    {
        var budget = new StrangerBudget(perAddress: new(Burst: 1, PerSecond: 1), overall: new(Burst: 1e9, PerSecond: 1e9), _time);
        for (int i = 0; i < StrangerBudget.MaxAddresses; i++)
        {
            Assert.Equal(BudgetVerdict.Granted, budget.TryTake(Address(i), 1));
        }

        _time.Advance(TimeSpan.FromSeconds(1)); // every bucket refilled: all the same as new ones
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1)); // spent, and one newcomer: all refilled ones go
        Assert.Equal(1, budget.Addresses);
        Assert.Equal(BudgetVerdict.AddressSpent, budget.TryTake(A, 1)); // A's spend is remembered

        for (int i = 1; i < StrangerBudget.MaxAddresses; i++)
        {
            budget.TryTake(Address(i), 1);
        }

        // Full of spent buckets: the next newcomer starts the table afresh (memory stays bounded).
        Assert.Equal(StrangerBudget.MaxAddresses, budget.Addresses);
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(B, 1));
        Assert.Equal(1, budget.Addresses);
    }

    [Fact]
    public void Amounts_are_in_the_limits_unit_such_as_bytes()
    {
        var budget = new StrangerBudget(perAddress: new(Burst: 3_000, PerSecond: 1_000), overall: new(Burst: 1e6, PerSecond: 1e6), _time);

        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1_400));
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 1_400));
        Assert.Equal(BudgetVerdict.AddressSpent, budget.TryTake(A, 1_400)); // 200 bytes left
        Assert.Equal(BudgetVerdict.Granted, budget.TryTake(A, 200));
    }

    private static IPAddress Address(int i) => new([10, 1, (byte)(i >> 8), (byte)i]);
}
