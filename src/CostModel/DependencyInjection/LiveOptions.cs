using Microsoft.Extensions.Options;

namespace CostModel.DependencyInjection;

/// <summary>
/// The current value of one options type for a component that reads it on a hot path: read once
/// per change (<see cref="IOptionsMonitor{TOptions}.CurrentValue"/> costs a dictionary lookup per
/// call), first read lazily (a component may be built while its options are being validated), and
/// the change subscription held until disposed (a dropped one leaks the component into the monitor).
/// </summary>
/// <typeparam name="TOptions">The options type.</typeparam>
internal sealed class LiveOptions<TOptions> : IDisposable
    where TOptions : class
{
    private readonly IOptionsMonitor<TOptions> _monitor;
    private readonly IDisposable? _subscription;
    private volatile TOptions? _current;

    /// <summary>Follows <paramref name="monitor"/>'s default options.</summary>
    /// <param name="monitor">The monitor.</param>
    /// <param name="changed">Called after each change with the new value (rebuild what derives from it); null for none.</param>
    public LiveOptions(IOptionsMonitor<TOptions> monitor, Action<TOptions>? changed = null)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        _monitor = monitor;
        _subscription = monitor.OnChange((options, name) =>
        {
            if (string.IsNullOrEmpty(name))
            {
                _current = options;
                changed?.Invoke(options);
            }
        });
    }

    /// <summary>The options as of the last change.</summary>
    public TOptions Current => _current ??= _monitor.CurrentValue;

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();
}
