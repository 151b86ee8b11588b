using CostModel.Scoring;

namespace CostModel.Pricing;

/// <summary>One row of a price table: what a provider charges for a model.</summary>
public sealed record ModelPrice
{
    /// <summary>Creates a price row.</summary>
    /// <param name="provider">The provider ("openai"), lower case.</param>
    /// <param name="model">The model name as the provider spells it.</param>
    /// <param name="inputDollarsPerMillionTokens">Dollars per million prompt tokens (finite, not negative).</param>
    /// <param name="outputDollarsPerMillionTokens">Dollars per million generated tokens (finite, not negative).</param>
    /// <exception cref="ArgumentException">A name is empty or a price is negative or not finite.</exception>
    public ModelPrice(string provider, string model, double inputDollarsPerMillionTokens, double outputDollarsPerMillionTokens)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        Provider = provider;
        Model = model;
        InputDollarsPerMillionTokens = Price(inputDollarsPerMillionTokens, nameof(inputDollarsPerMillionTokens));
        OutputDollarsPerMillionTokens = Price(outputDollarsPerMillionTokens, nameof(outputDollarsPerMillionTokens));
    }

    /// <summary>The provider.</summary>
    public string Provider { get; }

    /// <summary>The model name as the provider spells it.</summary>
    public string Model { get; }

    /// <summary>Dollars per million prompt tokens.</summary>
    public double InputDollarsPerMillionTokens { get; }

    /// <summary>Dollars per million generated tokens.</summary>
    public double OutputDollarsPerMillionTokens { get; }

    /// <summary>The longest context in tokens, when known.</summary>
    public int? ContextTokens { get; init; }

    /// <summary>Since when the price applies, when known.</summary>
    public DateOnly? EffectiveDate { get; init; }

    /// <summary>Where the price was read (a pricing page, a file).</summary>
    public string? Source { get; init; }

    /// <summary>The price as the scorer takes it.</summary>
    public TokenPrice TokenPrice => new(InputDollarsPerMillionTokens, OutputDollarsPerMillionTokens);

    private static double Price(double value, string name) =>
        double.IsFinite(value) && value >= 0 && value <= MaxDollarsPerMillionTokens
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"A price must be between 0 and {MaxDollarsPerMillionTokens} dollars per million tokens.");

    // The dearest public models charge a few hundred dollars per million output tokens
    // (o1-pro: $600); 100,000 rejects absurd values without limiting real prices.
    internal const double MaxDollarsPerMillionTokens = 100_000;
}
