using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace CostModel.Pricing;

/// <summary>
/// An immutable, dated price table. Read from our own JSON format (<c>docs/pricing.md</c>) or
/// from LiteLLM's community <c>model_prices_and_context_window.json</c>; the format is detected.
/// Model names are looked up case-insensitively, with or without a provider prefix
/// (<c>openai/gpt-4o</c> and <c>gpt-4o</c>).
/// </summary>
internal sealed class PriceTable : IPriceTable
{
    /// <summary>The format marker of our own files.</summary>
    public const string FormatMarker = "costmodel-prices/1";

    // A LiteLLM file holds a few thousand rows; 100,000 bounds a hostile or corrupt file.
    internal const int MaxEntries = 100_000;

    private readonly FrozenDictionary<string, ModelPrice> _byName;

    private PriceTable(IReadOnlyList<ModelPrice> prices, DateOnly? asOf, string origin, int skippedRows)
    {
        var byName = new Dictionary<string, ModelPrice>(StringComparer.Ordinal);
        foreach (ModelPrice price in prices)
        {
            string model = Normalize(price.Model);
            byName.TryAdd($"{Normalize(price.Provider)}/{model}", price);
            byName.TryAdd(model, price);
        }

        _byName = byName.ToFrozenDictionary(StringComparer.Ordinal);
        Prices = prices;
        AsOf = asOf;
        Origin = origin;
        SkippedRows = skippedRows;
    }

    /// <summary>Every row, in file order.</summary>
    public IReadOnlyList<ModelPrice> Prices { get; }

    /// <summary>When the table was compiled; null when the file does not say (LiteLLM's format).</summary>
    public DateOnly? AsOf { get; }

    /// <summary>Where the table came from ("bundled", a path, a host source).</summary>
    public string Origin { get; }

    /// <summary>Rows of a LiteLLM file that carry no per-token price (image, audio, per-request models) and were left out.</summary>
    public int SkippedRows { get; }

    /// <summary>Finds the price of a model.</summary>
    /// <param name="model">The model name, optionally with a provider prefix.</param>
    /// <param name="price">The row, when found.</param>
    /// <returns>True when the table knows the model.</returns>
    public bool TryFind(string model, out ModelPrice price)
    {
        ArgumentNullException.ThrowIfNull(model);
        string key = Normalize(model);
        if (_byName.TryGetValue(key, out price!))
        {
            return true;
        }

        int slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash >= 0 && _byName.TryGetValue(key[(slash + 1)..], out price!);
    }

    /// <summary>
    /// Combines tables: for a model in several, the first table wins. The result is dated by its
    /// oldest dated layer and names every origin.
    /// </summary>
    /// <param name="layers">The tables, highest priority first.</param>
    public static PriceTable Merge(IReadOnlyList<PriceTable> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 1)
        {
            return layers[0];
        }

        var rows = new List<ModelPrice>();
        DateOnly? oldest = null;
        int skipped = 0;
        foreach (PriceTable layer in layers)
        {
            rows.AddRange(layer.Prices);
            skipped += layer.SkippedRows;
            if (layer.AsOf is { } asOf && (oldest is null || asOf < oldest))
            {
                oldest = asOf;
            }
        }

        return new PriceTable(rows, oldest, layers.Count == 0 ? "empty" : string.Join(" over ", layers.Select(l => l.Origin)), skipped);
    }

    /// <summary>Lower case, trimmed: how names are compared.</summary>
    /// <param name="name">A model or provider name.</param>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant();
    }

    /// <summary>Reads a table from JSON text in our format or LiteLLM's.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="origin">Where it came from, for logs and explanations.</param>
    /// <exception cref="FormatException">The text is not a valid price table; the message says where and why.</exception>
    public static PriceTable Parse(string json, string origin)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrWhiteSpace(origin);
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{origin}: a price table is a JSON object.");
            }

            return root.TryGetProperty("format", out JsonElement format) && format.ValueKind == JsonValueKind.String
                ? ParseOwn(root, format.GetString(), origin)
                : ParseLiteLlm(root, origin);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{origin}: not valid JSON ({ex.Message}).", ex);
        }
    }

    private static PriceTable ParseOwn(JsonElement root, string? format, string origin)
    {
        if (format != FormatMarker)
        {
            throw new FormatException($"{origin}: unknown format '{format}'; expected '{FormatMarker}'.");
        }

        DateOnly asOf = Date(root, "asOf", origin) ?? throw new FormatException($"{origin}: 'asOf' (yyyy-MM-dd) is required.");
        if (!root.TryGetProperty("prices", out JsonElement rows) || rows.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{origin}: 'prices' must be an array.");
        }

        var prices = new List<ModelPrice>();
        int index = 0;
        foreach (JsonElement row in rows.EnumerateArray())
        {
            string where = $"{origin}: prices[{index++}]";
            if (prices.Count >= MaxEntries)
            {
                throw new FormatException($"{where}: more than {MaxEntries} rows.");
            }

            try
            {
                prices.Add(new ModelPrice(
                    Text(row, "provider", where),
                    Text(row, "model", where),
                    Number(row, "inputDollarsPerMillionTokens", where),
                    Number(row, "outputDollarsPerMillionTokens", where))
                {
                    ContextTokens = OptionalInt(row, "contextTokens", where),
                    EffectiveDate = Date(row, "effectiveDate", where),
                    Source = row.TryGetProperty("source", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null,
                });
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"{where}: {ex.Message}", ex);
            }
        }

        return new PriceTable(prices, asOf, origin, 0);
    }

    private static PriceTable ParseLiteLlm(JsonElement root, string origin)
    {
        var prices = new List<ModelPrice>();
        int skipped = 0;
        foreach (JsonProperty entry in root.EnumerateObject())
        {
            // "sample_spec" documents the format; rows without token prices price images or audio.
            if (entry.Value.ValueKind != JsonValueKind.Object || entry.Name == "sample_spec"
                || !entry.Value.TryGetProperty("input_cost_per_token", out JsonElement input) || input.ValueKind != JsonValueKind.Number
                || !entry.Value.TryGetProperty("output_cost_per_token", out JsonElement output) || output.ValueKind != JsonValueKind.Number)
            {
                skipped++;
                continue;
            }

            if (prices.Count >= MaxEntries)
            {
                throw new FormatException($"{origin}: more than {MaxEntries} rows.");
            }

            string provider = entry.Value.TryGetProperty("litellm_provider", out JsonElement p) && p.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(p.GetString())
                ? p.GetString()!
                : "unknown";
            int? context = entry.Value.TryGetProperty("max_input_tokens", out JsonElement c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out int tokens) && tokens > 0 ? tokens : null;
            try
            {
                // LiteLLM prices per token; ours per million tokens.
                prices.Add(new ModelPrice(provider, entry.Name, input.GetDouble() * 1e6, output.GetDouble() * 1e6)
                {
                    ContextTokens = context,
                    Source = origin,
                });
            }
            catch (ArgumentException)
            {
                skipped++;
            }
        }

        if (prices.Count == 0)
        {
            throw new FormatException($"{origin}: no row with input_cost_per_token and output_cost_per_token; not a LiteLLM price file.");
        }

        return new PriceTable(prices, null, origin, skipped);
    }

    private static string Text(JsonElement row, string name, string where) =>
        row.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!
            : throw new FormatException($"{where}: '{name}' must be a non-empty string.");

    private static double Number(JsonElement row, string name, string where) =>
        row.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new FormatException($"{where}: '{name}' must be a number.");

    private static int? OptionalInt(JsonElement row, string name, string where)
    {
        if (!row.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n > 0
            ? n
            : throw new FormatException($"{where}: '{name}' must be a positive integer.");
    }

    private static DateOnly? Date(JsonElement row, string name, string where)
    {
        if (!row.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date)
            ? date
            : throw new FormatException($"{where}: '{name}' must be a date yyyy-MM-dd.");
    }
}
