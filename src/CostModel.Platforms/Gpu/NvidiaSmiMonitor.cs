using System.Collections.Immutable;
using System.Globalization;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Gpu;

/// <summary>What the last <c>nvidia-smi</c> runs gave.</summary>
/// <param name="Devices">The devices of the last successful run (empty before the first).</param>
/// <param name="ObservedAt">When the last successful run answered, or null before the first.</param>
/// <param name="LastError">Why the most recent run failed, or null when it succeeded.</param>
internal sealed record NvidiaSmiState(ImmutableArray<GpuDevice> Devices, DateTimeOffset? ObservedAt, string? LastError)
{
    public static NvidiaSmiState Initial { get; } = new([], null, null);
}

/// <summary>
/// The <c>nvidia-smi</c> fallback for when NVML cannot be loaded: a timer from the injected
/// <see cref="TimeProvider"/> runs the tool every <see cref="RefreshInterval"/> on the thread
/// pool, kills it after the configured timeout, parses its CSV with <see cref="NvidiaSmiCsv"/>
/// and publishes the result in <see cref="State"/>. The probe only reads <see cref="State"/>:
/// no process ever runs on the collection path.
/// </summary>
internal sealed class NvidiaSmiMonitor : IDisposable
{
    /// <summary>
    /// How often nvidia-smi runs. One run costs 50 to 500 ms of CPU (more without persistence
    /// mode, when the driver initialises each time); every 10 s keeps that under 5 % of one core
    /// and the readings well inside <see cref="MaxAge"/>.
    /// </summary>
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>Readings older than three missed refreshes are reported as stale (Unknown) rather than as current.</summary>
    internal static readonly TimeSpan MaxAge = 3 * RefreshInterval;

    /// <summary>One CSV line is about 120 characters; 64 Ki characters bounds the output of any real node.</summary>
    internal const int MaxOutputChars = 64 * 1024;

    private readonly string _executable;
    private readonly IProcessRunner _runner;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probe;
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _timer;
    private int _running;
    private int _variant;
    private NvidiaSmiState _state = NvidiaSmiState.Initial;

    public NvidiaSmiMonitor(string executable, IProcessRunner runner, TimeProvider time, TimeSpan timeout, IProbeFailureReporter failures, string probeName)
    {
        _executable = executable;
        _runner = runner;
        _time = time;
        _timeout = timeout > TimeSpan.Zero ? timeout : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The nvidia-smi timeout must be positive.");
        _failures = failures;
        _probe = probeName;
    }

    /// <summary>The full path of the nvidia-smi that runs.</summary>
    public string Executable => _executable;

    /// <summary>The latest result; replaced as a whole, so readers never see half an update.</summary>
    public NvidiaSmiState State => Volatile.Read(ref _state);

    /// <summary>Starts the timer: a first run now, then one every <see cref="RefreshInterval"/>.</summary>
    public void Start() => _timer ??= _time.CreateTimer(static state => ((NvidiaSmiMonitor)state!).OnTimer(), this, TimeSpan.Zero, RefreshInterval);

    public void Dispose()
    {
        _timer?.Dispose();
        _stopping.Cancel();
        _stopping.Dispose();
    }

    /// <summary>Runs nvidia-smi once and publishes the result. Never throws.</summary>
    internal async Task RefreshAsync()
    {
        for (int attempt = 0; attempt < NvidiaSmiQuery.Variants.Length; attempt++)
        {
            int variant = Volatile.Read(ref _variant);
            NvidiaSmiQuery query = NvidiaSmiQuery.Variants[variant];
            ProcessOutput output;
            using (var timeout = new CancellationTokenSource(_timeout, _time))
            {
                CancellationTokenSource linked;
                try
                {
                    linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping.Token);
                }
                catch (ObjectDisposedException)
                {
                    return; // disposed
                }

                using (linked)
                {
                    try
                    {
                        output = await _runner.RunAsync(_executable, query.Arguments, MaxOutputChars, linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                    {
                        Fail("timeout", string.Create(CultureInfo.InvariantCulture,
                            $"{_executable} did not answer within {_timeout.TotalSeconds:0.###} s and was killed"));
                        return;
                    }
                    catch (OperationCanceledException)
                    {
                        return; // disposed
                    }
#pragma warning disable CA1031 // A background refresh must survive anything the tool does; the error becomes the reason.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        Fail("io", $"{_executable} could not be run: {ex.Message}");
                        return;
                    }
                }
            }

            if (output.ExitCode != 0)
            {
                string message = FirstLine(output.StandardError.Length > 0 ? output.StandardError : output.StandardOutput);
                if (variant + 1 < NvidiaSmiQuery.Variants.Length && message.Contains("is not a valid field", StringComparison.OrdinalIgnoreCase))
                {
                    // An older driver: remember the field list that works and ask again.
                    Interlocked.CompareExchange(ref _variant, variant + 1, variant);
                    continue;
                }

                Fail("io", string.Create(CultureInfo.InvariantCulture, $"{_executable} exited with code {output.ExitCode}: {message}"));
                return;
            }

            DateTimeOffset answeredAt = _time.GetUtcNow();
            NvidiaSmiParseResult parsed = NvidiaSmiCsv.Parse(output.StandardOutput, query.WithMigMode, answeredAt);
            foreach (string problem in parsed.Problems)
            {
                _failures.Report(_probe, "garbage", problem);
            }

            Volatile.Write(ref _state, new NvidiaSmiState(parsed.Devices, answeredAt, null));
            return;
        }
    }

    private void OnTimer()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            return; // the previous run is still going (it ends at the timeout at the latest)
        }

        _ = RunAndReleaseAsync();
    }

    private async Task RunAndReleaseAsync()
    {
        try
        {
            await RefreshAsync().ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private void Fail(string kind, string error)
    {
        _failures.Report(_probe, kind, error);
        NvidiaSmiState previous = State;
        Volatile.Write(ref _state, previous with { LastError = error });
    }

    private static string FirstLine(string text)
    {
        ReadOnlySpan<char> span = text.AsSpan().Trim();
        int newline = span.IndexOfAny('\r', '\n');
        if (newline >= 0)
        {
            span = span[..newline];
        }

        return span.Length > 200 ? string.Concat(span[..200], "...") : span.ToString();
    }
}
