using CostModel.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CostModel.DependencyInjection;

/// <summary>One setting that cannot change while the process runs, by its configuration key.</summary>
/// <typeparam name="TOptions">The options that hold it.</typeparam>
/// <param name="Key">The configuration key ("CostModel:NodeId").</param>
/// <param name="Get">Reads it.</param>
/// <param name="Set">Puts a value back.</param>
internal sealed record FixedSetting<TOptions>(string Key, Func<TOptions, object?> Get, Action<TOptions, object?> Set);

/// <summary>
/// Keeps the settings that cannot change while running (the node id, the view's size, buffer
/// sizes, ports) at the values the options had when first built: a reload that changes one is
/// refused for that setting, logged at Warning (event 6001) and counted
/// (<c>costmodel.options.reload_refused</c>), and the rest of the reload applies. Because it runs in
/// the options pipeline, every component reading the options sees the same value: none can follow a
/// reload another ignores.
/// </summary>
/// <typeparam name="TOptions">The options.</typeparam>
internal sealed class FixedAtStart<TOptions>(IEnumerable<FixedSetting<TOptions>> settings, CostModelMetrics metrics, ILogger<FixedAtStart<TOptions>>? logger = null) : IPostConfigureOptions<TOptions>
    where TOptions : class
{
    private readonly FixedSetting<TOptions>[] _settings = [.. settings];
    private readonly Dictionary<string, object?[]> _first = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void PostConfigure(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_gate)
        {
            if (!_first.TryGetValue(name ?? string.Empty, out object?[]? first))
            {
                _first[name ?? string.Empty] = [.. _settings.Select(s => s.Get(options))];
                return;
            }

            for (int i = 0; i < _settings.Length; i++)
            {
                object? now = _settings[i].Get(options);
                if (!Equals(now, first[i]))
                {
                    if (logger is not null)
                    {
                        Log.OptionFixedAtStart(logger, _settings[i].Key, Convert.ToString(now, System.Globalization.CultureInfo.InvariantCulture) ?? "null", Convert.ToString(first[i], System.Globalization.CultureInfo.InvariantCulture) ?? "null");
                    }

                    metrics.OptionReloadRefused(_settings[i].Key);
                    _settings[i].Set(options, first[i]);
                }
            }
        }
    }
}
