using System.Reflection;
using CostModel.Scoring;
using CostModel.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CostModel.Pricing;

/// <summary>
/// Holds the merged price table: the operator's files over the bundled table. Reloads when the
/// options change and refreshes from a host source every <see cref="PricingOptions.RefreshInterval"/>.
/// An invalid file or answer keeps the last good table, logs a Warning and counts.
/// </summary>
internal sealed class PriceCatalog : IPriceCatalog, IDisposable
{
    internal const string BundledOrigin = "bundled";
    private const string BundledResource = "CostModel.Pricing.default-prices.json";

    private readonly IOptionsMonitor<PricingOptions> _options;
    private readonly TimeProvider _time;
    private readonly CostModelMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IPriceSource? _source;
    private readonly IDisposable? _optionsSubscription;
    private readonly ITimer? _refreshTimer;
    private readonly Lock _gate = new();
    private PriceTable? _fromSource;
    private volatile PriceTable _current;

    public PriceCatalog(IOptionsMonitor<PricingOptions> options, TimeProvider time, CostModelMetrics metrics, IPriceSource? source = null, ILogger<PriceCatalog>? logger = null)
    {
        _options = options;
        _time = time;
        _metrics = metrics;
        _source = source;
        _logger = logger ?? NullLogger<PriceCatalog>.Instance;
        _current = Build(options.CurrentValue, previous: null);
        _optionsSubscription = options.OnChange(o => Reload(o));
        if (source is not null)
        {
            TimeSpan every = options.CurrentValue.RefreshInterval;
            _refreshTimer = time.CreateTimer(_ => _ = RefreshInBackgroundAsync(), null, every, every);
        }
    }

    public IPriceTable Current => _current;

    /// <summary>The table in use, with its lookup (for the router and tests).</summary>
    internal PriceTable Table => _current;

    public PriceLookup Lookup(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_current.TryFind(model, out ModelPrice row))
        {
            return new PriceLookup(PriceStatus.Known, row.TokenPrice, row);
        }

        return _options.CurrentValue.UnknownPriceFallback is { } fallback
            ? new PriceLookup(PriceStatus.Fallback, new TokenPrice(fallback.InputDollarsPerMillionTokens, fallback.OutputDollarsPerMillionTokens), null)
            : new PriceLookup(PriceStatus.Unknown, null, null);
    }

    public async Task<bool> RefreshAsync(CancellationToken cancellationToken = default)
    {
        if (_source is null)
        {
            return false;
        }

        (string Json, string Origin)? answer = await _source.FetchAsync(cancellationToken).ConfigureAwait(false);
        if (answer is not { } fetched)
        {
            return false;
        }

        PriceTable table;
        try
        {
            table = PriceTable.Parse(fetched.Json, fetched.Origin);
        }
        catch (FormatException ex)
        {
            _metrics.PriceLoadFailed("source");
            Log.PriceTableInvalid(_logger, fetched.Origin, ex.Message);
            return false;
        }

        lock (_gate)
        {
            _fromSource = table;
            _current = Build(_options.CurrentValue, _current);
        }

        return true;
    }

    public void Dispose()
    {
        _refreshTimer?.Dispose();
        _optionsSubscription?.Dispose();
    }

    private async Task RefreshInBackgroundAsync()
    {
        try
        {
            await RefreshAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failing host source must not crash the timer; it is logged and counted.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            _metrics.PriceLoadFailed("source");
            Log.PriceSourceFailed(_logger, ex);
        }
    }

    private void Reload(PricingOptions options)
    {
        lock (_gate)
        {
            _current = Build(options, _current);
        }
    }

    /// <summary>Merges: source answer over files (last first) over the bundled table. A file that fails keeps its rows from <paramref name="previous"/>.</summary>
    private PriceTable Build(PricingOptions options, PriceTable? previous)
    {
        var layers = new List<PriceTable>();
        if (_fromSource is not null)
        {
            layers.Add(_fromSource);
        }

        for (int i = options.Files.Count - 1; i >= 0; i--)
        {
            string path = options.Files[i];
            try
            {
                layers.Add(PriceTable.Parse(File.ReadAllText(path), path));
            }
            catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
            {
                _metrics.PriceLoadFailed("file");
                Log.PriceTableInvalid(_logger, path, ex.Message);
                if (previous is not null)
                {
                    // Keep the last good table whole rather than silently dropping this file's rows.
                    return previous;
                }
            }
        }

        if (options.UseBundledTable)
        {
            PriceTable bundled = LoadBundled();
            layers.Add(bundled);
            Log.BundledPricesInUse(_logger, bundled.AsOf?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "undated");
            _metrics.BundledPricesInUse();
        }

        DateOnly today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        foreach (PriceTable layer in layers)
        {
            if (layer.AsOf is { } asOf && today.DayNumber - asOf.DayNumber > options.MaxTableAge.TotalDays)
            {
                _metrics.StalePriceTable(layer.Origin == BundledOrigin ? "bundled" : "file");
                Log.PriceTableOld(_logger, layer.Origin, asOf.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), today.DayNumber - asOf.DayNumber);
            }
        }

        return PriceTable.Merge(layers);
    }

    internal static PriceTable LoadBundled()
    {
        using Stream stream = typeof(PriceCatalog).Assembly.GetManifestResourceStream(BundledResource)
            ?? throw new InvalidOperationException($"The bundled price table resource {BundledResource} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return PriceTable.Parse(reader.ReadToEnd(), BundledOrigin);
    }
}
