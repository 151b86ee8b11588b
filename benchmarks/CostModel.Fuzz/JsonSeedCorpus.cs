using System.Text;
using CostModel.Serialization;

namespace CostModel.Fuzz;

/// <summary>
/// The seeds of the JSON target (<see cref="JsonTarget"/>): the gossip seeds' snapshots (a laptop on
/// battery, the same with its arrival rate, a GPU box in a container with readings unknown and
/// unsupported) and capabilities, as <see cref="CostModelJson"/> writes them, and two small price
/// tables (this library's format, rows as in the bundled table; LiteLLM's, with a row of another
/// modality that is skipped), so AFL starts from text every reader takes. Written by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=json</c>;
/// each must be taken by a fresh target first.
/// </summary>
internal static class JsonSeedCorpus
{
    /// <summary>The seeds, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> Build() =>
    [
        ("laptop", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.Laptop()))),
        ("busy", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.Busy()))),
        ("gpu-box", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.GpuBox()))),
        ("capabilities", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.Capabilities("seed-gpu-box")))),
        ("prices", Encoding.UTF8.GetBytes(OwnPrices)),
        ("prices-litellm", Encoding.UTF8.GetBytes(LiteLlmPrices)),
    ];

    // Two rows of the bundled table (src/CostModel/Pricing/default-prices.json), in its format (docs/pricing.md).
    private const string OwnPrices = """
        {"format":"costmodel-prices/1","asOf":"2026-11-20","prices":[
        {"provider":"openai","model":"gpt-4o","inputDollarsPerMillionTokens":2.5,"outputDollarsPerMillionTokens":10,"contextTokens":128000,"effectiveDate":"2024-10-01","source":"https://openai.com/api/pricing"},
        {"provider":"openai","model":"gpt-4o-mini","inputDollarsPerMillionTokens":0.15,"outputDollarsPerMillionTokens":0.6}]}
        """;

    // LiteLLM's model_prices_and_context_window.json shape (docs/pricing.md): per-token prices, the
    // provider, the context; its sample_spec entry and an image model without token prices are skipped.
    private const string LiteLlmPrices = """
        {"sample_spec":{"max_tokens":"LEGACY parameter"},
        "gpt-4o":{"max_input_tokens":128000,"input_cost_per_token":2.5e-06,"output_cost_per_token":1e-05,"litellm_provider":"openai"},
        "anthropic/claude-3-5-haiku":{"max_input_tokens":200000,"input_cost_per_token":8e-07,"output_cost_per_token":4e-06,"litellm_provider":"anthropic"},
        "dall-e-3":{"litellm_provider":"openai","mode":"image_generation"}}
        """;

    /// <summary>Writes the seeds into <paramref name="directory"/>, each checked first: a fresh target must take it.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvalidOperationException">A seed was refused by every reader.</exception>
    public static IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in Build())
        {
            using (var target = new JsonTarget())
            {
                if (!target.Run(input))
                {
                    throw new InvalidOperationException($"The seed '{name}' was refused by every reader.");
                }
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        return written;
    }
}
