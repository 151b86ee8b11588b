using CostModel.Pricing;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Pricing;

public sealed class PriceCatalogTests : IDisposable
{
    // A small file in LiteLLM's real format: per-token prices, provider, context, the sample_spec row and a non-token row.
    private const string LiteLlmFile = """
        {
          "sample_spec": { "max_tokens": "LEGACY parameter", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of chat, embedding, completion" },
          "gpt-4o": { "max_tokens": 16384, "max_input_tokens": 128000, "max_output_tokens": 16384, "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "litellm_provider": "openai", "mode": "chat", "supports_vision": true },
          "openrouter/meta-llama/llama-3.1-70b-instruct": { "max_tokens": 131072, "input_cost_per_token": 4e-07, "output_cost_per_token": 4e-07, "litellm_provider": "openrouter", "mode": "chat" },
          "dall-e-3": { "mode": "image_generation", "input_cost_per_pixel": 4.0054321e-08, "output_cost_per_pixel": 0.0, "litellm_provider": "openai" }
        }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("costmodel-prices-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeLogCollector _logs;
    private ServiceProvider? _provider;

    public PriceCatalogTests() => _logs = new FakeLogCollector();

    public void Dispose()
    {
        _provider?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private IPriceCatalog Build(Action<PricingOptions>? configure = null, IPriceSource? source = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(_logs)).SetMinimumLevel(LogLevel.Debug));
        services.AddMetrics();
        var builder = services.AddCostModel().Configure<PricingOptions>(o => configure?.Invoke(o));
        if (source is not null)
        {
            builder.AddPriceSource(source);
        }

        _provider = services.BuildServiceProvider();
        return _provider.GetRequiredService<IPriceCatalog>();
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_bundled_table_loads_and_warns_that_it_is_bundled_and_old()
    {
        IPriceCatalog catalog = Build();

        PriceLookup gpt4o = catalog.Lookup("gpt-4o");
        Assert.Equal(PriceStatus.Known, gpt4o.Status);
        Assert.Equal(2.5, gpt4o.Price!.Value.InputDollarsPerMillionTokens);
        Assert.Equal(10, gpt4o.Price.Value.OutputDollarsPerMillionTokens);
        Assert.Equal(new DateOnly(2025, 6, 1), catalog.Current.AsOf);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 2001 && r.Level == LogLevel.Warning);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 2002 && r.Message.Contains("bundled", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("OpenAI/GPT-4o")]
    [InlineData(" gpt-4o ")]
    [InlineData("openai/gpt-4o")]
    public void Names_are_normalised_with_or_without_provider_prefix(string name) =>
        Assert.Equal(PriceStatus.Known, Build().Lookup(name).Status);

    [Fact]
    public void A_litellm_file_loads_per_token_prices_as_per_million()
    {
        IPriceCatalog catalog = Build(o => o.Files.Add(Write("litellm.json", LiteLlmFile)));

        PriceLookup llama = catalog.Lookup("openrouter/meta-llama/llama-3.1-70b-instruct");
        Assert.Equal(PriceStatus.Known, llama.Status);
        Assert.Equal(0.4, llama.Price!.Value.InputDollarsPerMillionTokens, 9);
        Assert.Equal("openrouter", llama.Row!.Provider);
        Assert.Equal(128000, catalog.Lookup("gpt-4o").Row!.ContextTokens);
        Assert.Equal(PriceStatus.Unknown, catalog.Lookup("dall-e-3").Status);
    }

    [Fact]
    public void An_operator_file_wins_over_the_bundled_table()
    {
        string own = Write("own.json", """
            { "format": "costmodel-prices/1", "asOf": "2026-11-20", "prices": [
              { "provider": "openai", "model": "gpt-4o", "inputDollarsPerMillionTokens": 1.0, "outputDollarsPerMillionTokens": 4.0 } ] }
            """);
        IPriceCatalog catalog = Build(o => o.Files.Add(own));

        Assert.Equal(1.0, catalog.Lookup("gpt-4o").Price!.Value.InputDollarsPerMillionTokens);
        Assert.Equal(PriceStatus.Known, catalog.Lookup("claude-sonnet-4").Status);
    }

    [Fact]
    public void An_unknown_model_is_its_own_state_unless_the_operator_states_a_fallback()
    {
        Assert.Equal(new PriceLookup(PriceStatus.Unknown, null, null), Build().Lookup("brand-new-model"));

        using var other = new PriceCatalogTests();
        PriceLookup fallback = other.Build(o => o.UnknownPriceFallback = new FallbackPrice { InputDollarsPerMillionTokens = 5, OutputDollarsPerMillionTokens = 20 }).Lookup("brand-new-model");
        Assert.Equal(PriceStatus.Fallback, fallback.Status);
        Assert.Equal(20, fallback.Price!.Value.OutputDollarsPerMillionTokens);
    }

    [Fact]
    public void A_price_file_of_more_than_100000_rows_is_refused_in_either_format_and_one_of_100000_read()
    {
        // A LiteLLM file holds a few thousand rows: 100,000 bounds a hostile or corrupt one.
        static string Own(int rows) => "{ \"format\": \"costmodel-prices/1\", \"asOf\": \"2026-01-01\", \"prices\": ["
            + string.Join(",", Enumerable.Range(0, rows).Select(i => $"{{ \"provider\": \"p\", \"model\": \"m{i}\", \"inputDollarsPerMillionTokens\": 1, \"outputDollarsPerMillionTokens\": 2 }}"))
            + "] }";
        static string LiteLlm(int rows) => "{ "
            + string.Join(",", Enumerable.Range(0, rows).Select(i => $"\"m{i}\": {{ \"input_cost_per_token\": 1e-6, \"output_cost_per_token\": 2e-6, \"litellm_provider\": \"p\" }}"))
            + " }";

        Assert.Equal(100_000, PriceTable.Parse(Own(100_000), "own.json").Prices.Count);
        Assert.Equal(100_000, PriceTable.Parse(LiteLlm(100_000), "litellm.json").Prices.Count);
        FormatException own = Assert.Throws<FormatException>(() => PriceTable.Parse(Own(100_001), "own.json"));
        Assert.Contains("own.json: prices[100000]: more than 100000 rows", own.Message, StringComparison.Ordinal);
        FormatException litellm = Assert.Throws<FormatException>(() => PriceTable.Parse(LiteLlm(100_001), "litellm.json"));
        Assert.Contains("litellm.json: more than 100000 rows", litellm.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""{ "format": "costmodel-prices/1", "prices": [] }""", "asOf")]
    [InlineData("""{ "format": "costmodel-prices/1", "asOf": "2026-01-01", "prices": [ { "provider": "x", "model": "m", "inputDollarsPerMillionTokens": -1, "outputDollarsPerMillionTokens": 1 } ] }""", "prices[0]")]
    [InlineData("""{ "format": "something-else/9" }""", "unknown format")]
    [InlineData("""{ "a": { "mode": "chat" } }""", "not a LiteLLM price file")]
    public void Invalid_files_are_rejected_with_a_clear_reason(string text, string expected)
    {
        FormatException error = Assert.Throws<FormatException>(() => PriceTable.Parse(text, "test.json"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("test.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_source_answer_keeps_the_last_good_table_and_warns()
    {
        var source = new ScriptedSource();
        IPriceCatalog catalog = Build(source: source);
        source.Next = ("""{ "format": "costmodel-prices/1", "asOf": "2026-11-26", "prices": [ { "provider": "acme", "model": "acme-1", "inputDollarsPerMillionTokens": 1, "outputDollarsPerMillionTokens": 2 } ] }""", "acme-feed");
        Assert.True(await catalog.RefreshAsync(TestContext.Current.CancellationToken));
        Assert.Equal(PriceStatus.Known, catalog.Lookup("acme-1").Status);
        using var failures = new MetricCollector<long>(_provider!.GetRequiredService<CostModelMetrics>().Meter, "costmodel.pricing.load_failures");

        source.Next = ("{ truncated", "acme-feed");
        Assert.False(await catalog.RefreshAsync(TestContext.Current.CancellationToken));

        Assert.Equal(PriceStatus.Known, catalog.Lookup("acme-1").Status);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 2003 && r.Message.Contains("acme-feed", StringComparison.Ordinal));
        Assert.Single(failures.GetMeasurementSnapshot());
    }

    [Fact]
    public void The_source_is_asked_again_after_the_refresh_interval()
    {
        var source = new ScriptedSource();
        Build(o => o.RefreshInterval = TimeSpan.FromHours(1), source);

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, source.Calls);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, source.Calls);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(2, source.Calls);
    }

    [Fact]
    public void A_broken_file_at_start_is_skipped_with_a_warning_and_the_rest_still_loads()
    {
        IPriceCatalog catalog = Build(o => o.Files.Add(Write("broken.json", "{")));

        Assert.Equal(PriceStatus.Known, catalog.Lookup("gpt-4o").Status);
        Assert.Contains(_logs.GetSnapshot(), r => r.Id.Id == 2003 && r.Message.Contains("broken.json", StringComparison.Ordinal));
    }

    private sealed class ScriptedSource : IPriceSource
    {
        public (string Json, string Origin)? Next { get; set; }

        public int Calls { get; private set; }

        public Task<(string Json, string Origin)?> FetchAsync(CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult(Next);
        }
    }
}
