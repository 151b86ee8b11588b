using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Tests.Routing;

public sealed class RouterEndToEndTests
{
    [Fact]
    public void Routes_to_a_priced_api_endpoint_when_no_node_serves_the_model()
    {
        using var f = new RouterFixture(o => o.ApiEndpoints.Add(new ApiEndpoint { Id = "openai:gpt-4o", Model = "gpt-4o" }));
        f.Add(f.Node("local"));

        RouteDecision d = f.Router.Route(new RequestProfile("gpt-4o") { InputTokens = 1_000, OutputTokens = 500 });

        Assert.Equal("openai:gpt-4o", d.TargetId);
        Assert.True(d.IsApiEndpoint);
        Assert.Equal(((1_000 * 2.5) + (500 * 10)) / 1e6, d.Cost.ApiDollars, 12);
    }

    [Fact]
    public void An_endpoint_with_an_unknown_price_is_never_chosen()
    {
        using var f = new RouterFixture(o => o.ApiEndpoints.Add(new ApiEndpoint { Id = "mystery", Model = "mystery-model" }));
        var explanation = new RouteExplanation();

        RouteDecision d = f.Router.Route(new RequestProfile("mystery-model") { InputTokens = 10, OutputTokens = 10 }, explanation);

        Assert.False(d.HasTarget);
        Assert.Equal("price unknown", explanation.Candidates.Single().Reason);
    }

    [Fact]
    public void A_daily_spend_cap_stops_api_use_once_spent()
    {
        using var f = new RouterFixture(
            o => o.ApiEndpoints.Add(new ApiEndpoint { Id = "api", Model = "gpt-4o" }),
            budgets: b => b.SpendCaps.Add(new CostModel.Budgets.SpendCap { Name = "daily", MaxDollars = 0.02 }));
        var request = new RequestProfile("gpt-4o") { InputTokens = 1_000, OutputTokens = 1_000 }; // 0.0125 $

        RouteDecision first = f.Router.Route(request);
        Assert.True(first.HasTarget);
        first.Lease.Complete(new RouteOutcome(true, 2, 1_000));

        Assert.False(f.Router.Route(request).HasTarget);
    }

    [Fact]
    public void Unknown_filter_names_are_rejected_when_options_are_validated()
    {
        var services = new ServiceCollection();
        services.AddCostModel(new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create("CostModel:Routing:Filters:0", (string?)"no-such-filter")]).Build().GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RoutingOptions>>().Value);
        Assert.Contains("no-such-filter", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("01:00:01")]
    public void A_failure_cost_outside_zero_to_an_hour_is_refused_with_its_key(string value)
    {
        var services = new ServiceCollection();
        services.AddCostModel(new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create("CostModel:Routing:FailureCost", (string?)value)]).Build().GetSection("CostModel"));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RoutingOptions>>().Value);
        Assert.Contains("CostModel:Routing:FailureCost", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decisions_are_published_on_the_stream()
    {
        using var f = new RouterFixture();
        f.Add(f.Node("a"));
        var seen = new List<RouteDecision>();
        using IDisposable subscription = f.Router.Decisions.Subscribe(seen.Add);

        RouteDecision d = f.Router.Route(RouterFixture.Request());

        Assert.Equal(d, Assert.Single(seen));
    }
}
