using CostModel.Collection;
using CostModel.Factors;
using Microsoft.Extensions.Logging;
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
        CollectionOptions collection = provider.GetRequiredService<IOptions<CollectionOptions>>().Value;

        Assert.Equal("desk-1", options.NodeId);
        Assert.Equal(TimeSpan.FromSeconds(2), collection.SampleInterval);
        Assert.True(collection.MeteredInterfaces["wwan0"]);
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

        CostModel.Scoring.ScoringOptions scoring = provider.GetRequiredService<IOptions<CostModel.Scoring.ScoringOptions>>().Value;

        Assert.Equal(0.31, scoring.ElectricityDollarsPerKilowattHour);
        Assert.Equal(CostModel.Scoring.UnknownMeteredPolicy.AssumeNotMetered, scoring.UnknownMetered);
        Assert.True(scoring.Nodes["tether-laptop"].Metered);
        Assert.Equal(20, provider.GetRequiredService<IOptions<CostModel.Pricing.PricingOptions>>().Value.UnknownPriceFallback!.OutputDollarsPerMillionTokens);
        Assert.Equal(5, Assert.Single(provider.GetRequiredService<IOptions<CostModel.Budgets.BudgetOptions>>().Value.SpendCaps).MaxDollars);
        Assert.NotNull(provider.GetRequiredService<CostModel.Scoring.ICostScorer>());
        Assert.NotNull(provider.GetRequiredService<CostModel.Pricing.IPriceCatalog>());
    }

    [Fact]
    public void Invalid_options_are_all_reported_at_start()
    {
        var services = new ServiceCollection();
        services.AddCostModel(Config(
            ("CostModel:NodeId", new string('x', 65)),
            ("CostModel:Collection:SampleInterval", "00:00:00.001"),
            ("CostModel:Collection:MaxPassRetries", "99"),
            ("CostModel:Scoring:BatteryReserveFloorPercent", "150"),
            ("CostModel:Scoring:PowerMaxAge", "00:00:00"),
            ("CostModel:Scoring:BatteryReserveLookAhead", "-00:00:01"),
            ("CostModel:Budgets:SpendCaps:0:MaxDollars", "-1")).GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();

        // Each component's options fail on their own; the start-up validator reports them all at once.
        AggregateException error = Assert.Throws<AggregateException>(
            () => provider.GetRequiredService<IStartupValidator>().Validate());
        string[] failures = [.. error.InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures)];

        Assert.Contains(failures, f => f.Contains("NodeId", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("SampleInterval", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MaxPassRetries", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("BatteryReserveFloorPercent", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("PowerMaxAge", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("BatteryReserveLookAhead", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MaxDollars", StringComparison.Ordinal));
    }

    // 508: the smallest UDP payload every IPv4 path carries (RFC 791's 576 less the headers); 65,507: the
    // largest a UDP datagram holds. One byte past either end is a configuration mistake, refused before any message.
    [Theory]
    [InlineData(CostModel.Gossip.GossipDefaults.MinMtu - 1, false)]
    [InlineData(CostModel.Gossip.GossipDefaults.MinMtu, true)]
    [InlineData(CostModel.Gossip.GossipDefaults.MaxMtu, true)]
    [InlineData(CostModel.Gossip.GossipDefaults.MaxMtu + 1, false)]
    public void The_gossip_MTU_outside_508_to_65507_bytes_is_refused_at_start_naming_it(int mtu, bool taken) =>
        AssertGossipOption("Mtu", mtu.ToString(System.Globalization.CultureInfo.InvariantCulture), taken, g => g.Mtu == mtu);

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(CostModel.Gossip.GossipDefaults.MaxClusterIdLength, true)]
    [InlineData(CostModel.Gossip.GossipDefaults.MaxClusterIdLength + 1, false)]
    public void A_cluster_id_of_1_to_64_characters_is_taken_and_any_other_refused_at_start(int length, bool taken) =>
        AssertGossipOption("ClusterId", new string('c', length), taken, g => g.ClusterId.Length == length);

    [Fact]
    public void A_node_id_with_a_lone_surrogate_is_refused_at_start()
    {
        // It would travel in gossip as U+FFFD: peers would know the node by another id than its own.
        // Cases in code, not InlineData: xUnit's serialised theory data turns a lone surrogate into U+FFFD.
        foreach ((string nodeId, int index) in new[] { ("node-\uD800", 5), ("node-\uDC00-a", 5), ("\uDBFF", 0) })
        {
            var services = new ServiceCollection();
            services.AddCostModel(Config(("CostModel:NodeId", nodeId)).GetSection("CostModel"));
            using ServiceProvider provider = services.BuildServiceProvider();

            // The only failure: the start-up validator throws it as it is (several come as an AggregateException).
            OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.Contains(error.Failures, f => f.Contains("NodeId must be well-formed Unicode", StringComparison.Ordinal) && f.Contains($"index {index}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_node_id_outside_the_basic_plane_is_taken()
    {
        var services = new ServiceCollection();
        services.AddCostModel(Config(("CostModel:NodeId", "gpu-box-\U0001F600")).GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal("gpu-box-\U0001F600", provider.GetRequiredService<IOptions<CostModelOptions>>().Value.NodeId);
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
    public void A_reload_reaches_the_collector_live_but_a_changed_node_id_is_refused_and_kept_everywhere()
    {
        var services = new ServiceCollection();
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        services.AddLogging(l => l.AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider(logs)));
        var config = new ConfigurationBuilder().AddInMemoryCollection(
        [
            KeyValuePair.Create("CostModel:NodeId", (string?)"before"),
            KeyValuePair.Create("CostModel:Gossip:AllowUnauthenticated", (string?)"true"),
        ]).Build();
        services.AddCostModel(config.GetSection("CostModel")).AddGossip();
        using ServiceProvider provider = services.BuildServiceProvider();
        ICostCollector collector = provider.GetRequiredService<ICostCollector>();
        CostModel.Gossip.GossipAdapter adapter = provider.GetRequiredService<CostModel.Gossip.GossipAdapter>();
        Assert.Equal("before", collector.Collect().NodeId);

        config["CostModel:NodeId"] = "after";
        config["CostModel:Collection:Metered"] = "true";
        config.Reload();

        // The live setting arrives; the fixed one stays, so the collector and gossip still agree.
        NodeCostFactors snapshot = collector.Collect();
        Assert.True(snapshot.Network.Metered.Value);
        Assert.Equal("before", snapshot.NodeId);
        Assert.Equal("before", adapter.NodeId);
        Assert.Equal("before", provider.GetRequiredService<IOptionsMonitor<CostModelOptions>>().CurrentValue.NodeId);
        Assert.Contains(logs.GetSnapshot(), r => r.Id.Id == 6001 && r.Message.Contains("CostModel:NodeId", StringComparison.Ordinal) && r.Message.Contains("after", StringComparison.Ordinal));
    }

    [Fact]
    public void A_reload_changing_the_view_size_or_the_mtu_is_refused_and_the_rest_applies()
    {
        var services = new ServiceCollection();
        var config = new ConfigurationBuilder().AddInMemoryCollection(
        [
            KeyValuePair.Create("CostModel:Gossip:AllowUnauthenticated", (string?)"true"),
        ]).Build();
        services.AddCostModel(config.GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();
        IOptionsMonitor<CostModel.Gossip.GossipOptions> gossip = provider.GetRequiredService<IOptionsMonitor<CostModel.Gossip.GossipOptions>>();
        using var refused = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(provider.GetRequiredService<CostModel.Telemetry.CostModelMetrics>().Meter, "costmodel.options.reload_refused");
        Assert.Equal(CostModel.Gossip.GossipDefaults.MaxNodes, gossip.CurrentValue.MaxNodes);

        config["CostModel:Gossip:MaxNodes"] = "10";
        config["CostModel:Gossip:Mtu"] = "9000";
        config["CostModel:Gossip:PhiThreshold"] = "12";
        config.Reload();

        Assert.Equal(CostModel.Gossip.GossipDefaults.MaxNodes, gossip.CurrentValue.MaxNodes);
        Assert.Equal(CostModel.Gossip.GossipDefaults.Mtu, gossip.CurrentValue.Mtu);
        Assert.Equal(12, gossip.CurrentValue.PhiThreshold);
        Assert.Equal(["CostModel:Gossip:MaxNodes", "CostModel:Gossip:Mtu"], refused.GetMeasurementSnapshot().Select(m => (string)m.Tags["key"]!).Order(StringComparer.Ordinal));
    }

    // One gossip option set in configuration: taken at start (and read back as set), or refused naming its key.
    private static void AssertGossipOption(string key, string value, bool taken, Func<CostModel.Gossip.GossipOptions, bool> readBack)
    {
        var services = new ServiceCollection();
        services.AddCostModel(Config(
            ("CostModel:NodeId", "n"),
            ("CostModel:Gossip:AllowUnauthenticated", "true"),
            ($"CostModel:Gossip:{key}", value)).GetSection("CostModel")).AddGossip();
        using ServiceProvider provider = services.BuildServiceProvider();

        if (taken)
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.True(readBack(provider.GetRequiredService<IOptions<CostModel.Gossip.GossipOptions>>().Value), $"{key} was not read back as '{value}'");
        }
        else
        {
            OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.Contains(error.Failures, f => f.Contains(key, StringComparison.Ordinal));
        }
    }
}
