using CostModel.Collection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Tests.DependencyInjection;

public sealed class RegistrationTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Options_bind_from_configuration()
    {
        var services = new ServiceCollection();
        services.AddCostModel(Config(
            ("CostModel:NodeId", "desk-1"),
            ("CostModel:Collection:SampleInterval", "00:00:02"),
            ("CostModel:Collection:MeteredInterfaces:wwan0", "true")).GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();

        CostModelOptions options = provider.GetRequiredService<IOptions<CostModelOptions>>().Value;

        Assert.Equal("desk-1", options.NodeId);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Collection.SampleInterval);
        Assert.True(options.Collection.MeteredInterfaces["wwan0"]);
        Assert.NotNull(provider.GetRequiredService<ICostCollector>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void Scoring_pricing_and_budget_settings_bind_from_configuration()
    {
        var services = new ServiceCollection();
        services.AddCostModel(Config(
            ("CostModel:Scoring:ElectricityDollarsPerKilowattHour", "0.31"),
            ("CostModel:Scoring:UnknownMetered", "AssumeNotMetered"),
            ("CostModel:Scoring:Nodes:tether-laptop:Metered", "true"),
            ("CostModel:Pricing:UnknownPriceFallback:OutputDollarsPerMillionTokens", "20"),
            ("CostModel:Budgets:SpendCaps:0:Name", "daily api"),
            ("CostModel:Budgets:SpendCaps:0:MaxDollars", "5")).GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();

        CostModelOptions options = provider.GetRequiredService<IOptions<CostModelOptions>>().Value;

        Assert.Equal(0.31, options.Scoring.ElectricityDollarsPerKilowattHour);
        Assert.Equal(CostModel.Scoring.UnknownMeteredPolicy.AssumeNotMetered, options.Scoring.UnknownMetered);
        Assert.True(options.Scoring.Nodes["tether-laptop"].Metered);
        Assert.Equal(20, options.Pricing.UnknownPriceFallback!.OutputDollarsPerMillionTokens);
        Assert.Equal(5, Assert.Single(options.Budgets.SpendCaps).MaxDollars);
        Assert.NotNull(provider.GetRequiredService<CostModel.Scoring.ICostScorer>());
        Assert.NotNull(provider.GetRequiredService<CostModel.Pricing.IPriceCatalog>());
    }

    [Fact]
    public async Task Invalid_options_are_all_reported_at_start()
    {
        var services = new ServiceCollection();
        services.AddCostModel(Config(
            ("CostModel:NodeId", new string('x', 65)),
            ("CostModel:Collection:SampleInterval", "00:00:00.001"),
            ("CostModel:Collection:MaxPassRetries", "99"),
            ("CostModel:Scoring:BatteryReserveFloorPercent", "150"),
            ("CostModel:Scoring:PowerMaxAge", "00:00:00"),
            ("CostModel:Budgets:SpendCaps:0:MaxDollars", "-1")).GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(
            () => provider.GetRequiredService<IAsyncStartupValidator>().ValidateAsync(TestContext.Current.CancellationToken));

        Assert.Contains(error.Failures, f => f.Contains("NodeId", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("SampleInterval", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MaxPassRetries", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("BatteryReserveFloorPercent", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("PowerMaxAge", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("MaxDollars", StringComparison.Ordinal));
    }

    [Fact]
    public void Host_registrations_made_first_are_kept()
    {
        var services = new ServiceCollection();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        services.AddSingleton<TimeProvider>(clock);
        services.AddCostModel(o => o.NodeId = "n");
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(clock, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void Live_option_changes_reach_the_collector()
    {
        var services = new ServiceCollection();
        var config = new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create("CostModel:NodeId", (string?)"before")]).Build();
        services.AddCostModel(config.GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();
        ICostCollector collector = provider.GetRequiredService<ICostCollector>();
        Assert.Equal("before", collector.Collect().NodeId);

        config["CostModel:NodeId"] = "after";
        config.Reload();

        Assert.Equal("after", collector.Collect().NodeId);
    }
}
