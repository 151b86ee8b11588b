using CostModel.Scoring;

namespace CostModel.Pricing;

/// <summary>The prices of paid API models, with their provenance and age.</summary>
public interface IPriceCatalog
{
    /// <summary>The table in use (the last good one: an invalid file never replaces it).</summary>
    IPriceTable Current { get; }

    /// <summary>The price of a model: known, the operator's stated fallback, or unknown (the endpoint is then excluded).</summary>
    /// <param name="model">The model name, with or without a provider prefix.</param>
    PriceLookup Lookup(string model);

    /// <summary>Asks the host's <see cref="IPriceSource"/> now; keeps the current table if the answer is invalid.</summary>
    /// <param name="cancellationToken">Cancels the fetch.</param>
    /// <returns>True when a new table was installed.</returns>
    Task<bool> RefreshAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A dated price table, immutable: read from our own JSON format (docs/pricing.md) or from
/// LiteLLM's community <c>model_prices_and_context_window.json</c>, merged over the bundled table.
/// </summary>
public interface IPriceTable
{
    /// <summary>Every row, in file order.</summary>
    IReadOnlyList<ModelPrice> Prices { get; }

    /// <summary>When the table was compiled; null when the file does not say (LiteLLM's format).</summary>
    DateOnly? AsOf { get; }

    /// <summary>Where the table came from ("bundled", a path, a host source).</summary>
    string Origin { get; }

    /// <summary>Rows of a LiteLLM file that carry no per-token price (image, audio, per-request models) and were left out.</summary>
    int SkippedRows { get; }
}

/// <summary>The answer of <see cref="IPriceCatalog.Lookup"/>.</summary>
/// <param name="Status">Known, fallback or unknown.</param>
/// <param name="Price">The price to use; null when unknown.</param>
/// <param name="Row">The table row, when known.</param>
public readonly record struct PriceLookup(PriceStatus Status, TokenPrice? Price, ModelPrice? Row);

/// <summary>Whether a model's price is known.</summary>
public enum PriceStatus
{
    /// <summary>No table knows the model and no fallback is configured: the endpoint is excluded.</summary>
    Unknown = 0,

    /// <summary>A table knows it.</summary>
    Known = 1,

    /// <summary>No table knows it; the operator's stated fallback applies.</summary>
    Fallback = 2,
}

/// <summary>A host-provided source of price tables (an HTTP fetch of LiteLLM's file, a config service).</summary>
public interface IPriceSource
{
    /// <summary>Fetches the current table's JSON text, or null when there is nothing new.</summary>
    /// <param name="cancellationToken">Cancels the fetch.</param>
    /// <returns>The text and a name for where it came from.</returns>
    Task<(string Json, string Origin)?> FetchAsync(CancellationToken cancellationToken);
}
