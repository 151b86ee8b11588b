using System.ComponentModel.DataAnnotations;

namespace CostModel.Pricing;

/// <summary>Where API prices come from. Bound from <c>CostModel:Pricing</c>.</summary>
public sealed class PricingOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from.</summary>
    public const string SectionName = "Pricing";

    /// <summary>Whether the bundled, dated table is used beneath the operator's files. Default true.</summary>
    public bool UseBundledTable { get; set; } = true;

    /// <summary>
    /// Price files to load, in our format or LiteLLM's <c>model_prices_and_context_window.json</c>;
    /// a later file wins over an earlier one and over the bundled table for the same model.
    /// </summary>
    public List<string> Files { get; set; } = [];

    /// <summary>
    /// A table older than this logs a Warning and counts on <c>costmodel.pricing.stale_tables</c>.
    /// Default 90 days (<see cref="PricingDefaults.MaxTableAge"/>).
    /// </summary>
    public TimeSpan MaxTableAge { get; set; } = PricingDefaults.MaxTableAge;

    /// <summary>How often a host price source (<see cref="IPriceSource"/>) is asked again. Default 24 h.</summary>
    public TimeSpan RefreshInterval { get; set; } = PricingDefaults.RefreshInterval;

    /// <summary>
    /// The price assumed for a model no table knows, or null (the default) to exclude such
    /// endpoints. An operator who sets it states the number; the library never makes one up.
    /// </summary>
    [Microsoft.Extensions.Options.ValidateObjectMembers]
    public FallbackPrice? UnknownPriceFallback { get; set; }
}

/// <summary>An operator-stated price for models no table knows.</summary>
public sealed class FallbackPrice
{
    /// <summary>Dollars per million prompt tokens.</summary>
    [Range(0, ModelPrice.MaxDollarsPerMillionTokens)]
    public double InputDollarsPerMillionTokens { get; set; }

    /// <summary>Dollars per million generated tokens.</summary>
    [Range(0, ModelPrice.MaxDollarsPerMillionTokens)]
    public double OutputDollarsPerMillionTokens { get; set; }
}

/// <summary>Defaults of <see cref="PricingOptions"/>.</summary>
public static class PricingDefaults
{
    /// <summary>90 days: providers change list prices a few times a year (OpenAI and Anthropic cut prices 2 to 4 times in 2024).</summary>
    public static readonly TimeSpan MaxTableAge = TimeSpan.FromDays(90);

    /// <summary>24 h: LiteLLM's community file changes several times a day, list prices rarely; a day keeps the table current at negligible cost.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromHours(24);
}
