using System.Reflection;
using CostModel.Budgets;
using CostModel.Collection;
using CostModel.Gossip;
using CostModel.Pricing;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Tests.DependencyInjection;

/// <summary>docs/configuration.md is the one table of every key: a setting added to the options and not to it fails here.</summary>
public sealed class ConfigurationDocTests
{
    [Fact]
    public void Every_option_of_the_core_has_a_row_in_the_configuration_reference()
    {
        string doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "configuration.md"));
        (string Section, Type Options)[] sections =
        [
            ("CostModel", typeof(CostModelOptions)),
            ("CostModel:Collection", typeof(CollectionOptions)),
            ("CostModel:Scoring", typeof(ScoringOptions)),
            ("CostModel:Scoring:Nodes:{node}", typeof(NodeScoringOverride)),
            ("CostModel:Pricing", typeof(PricingOptions)),
            ("CostModel:Pricing:UnknownPriceFallback", typeof(FallbackPrice)),
            ("CostModel:Routing", typeof(RoutingOptions)),
            ("CostModel:Routing:ApiEndpoints:{i}", typeof(ApiEndpoint)),
            ("CostModel:Budgets", typeof(BudgetOptions)),
            ("CostModel:Budgets:SpendCaps:{i}", typeof(SpendCap)),
            ("CostModel:Gossip", typeof(GossipOptions)),
        ];

        string[] missing =
        [
            .. from s in sections
               from p in s.Options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
               where p.CanWrite
               let key = $"`{s.Section}:{p.Name}`"
               where !doc.Contains(key, StringComparison.Ordinal)
               select key,
        ];

        Assert.True(missing.Length == 0, $"not in docs/configuration.md (run python3 eng/make-configuration-doc.py > docs/configuration.md): {string.Join(", ", missing)}");
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CostModel.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (CostModel.sln) is not above the test's directory.");
    }
}
