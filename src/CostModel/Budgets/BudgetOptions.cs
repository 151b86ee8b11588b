using System.ComponentModel.DataAnnotations;

namespace CostModel.Budgets;

/// <summary>Spend caps per time window, bound from <c>CostModel:Budgets</c>. The per-request maximum lives with the scorer (<c>Scoring:MaxDollarsPerRequest</c>, overridable per request).</summary>
/// <remarks>
/// Caps are mesh settings with no system default (no cap). A request cannot raise a shared cap;
/// it can only lower what it may spend through its own <c>MaxDollarsPerRequest</c>.
/// </remarks>
public sealed class BudgetOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from.</summary>
    public const string SectionName = "Budgets";

    /// <summary>The caps; every one must have room for a request to spend.</summary>
    [Microsoft.Extensions.Options.ValidateEnumeratedItems]
    public List<SpendCap> SpendCaps { get; set; } = [];
}

/// <summary>At most <see cref="MaxDollars"/> spent per <see cref="Window"/>.</summary>
public sealed class SpendCap
{
    /// <summary>A name for logs and explanations ("daily API budget").</summary>
    [Required]
    [StringLength(64, MinimumLength = 1)]
    public string Name { get; set; } = "spend cap";

    /// <summary>The window length; windows are aligned to the Unix epoch in UTC, so a 1-day window resets at UTC midnight.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The most that may be spent in one window, dollars.</summary>
    [Range(0, 1e9)]
    public double MaxDollars { get; set; }

    /// <summary>What counts: API money only (the default) or every money term (energy and metered traffic too).</summary>
    public SpendScope Scope { get; set; } = SpendScope.Api;
}

/// <summary>What a spend cap counts.</summary>
public enum SpendScope
{
    /// <summary>Money paid to API providers.</summary>
    Api = 0,

    /// <summary>API money, energy and metered traffic.</summary>
    All = 1,
}
