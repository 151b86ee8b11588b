using System.Globalization;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// Keeps Windows' answer to "is the internet connection metered?" in a cache that the collection
/// path reads with one reference read. <c>INetworkCostManager::GetCost</c> is a COM call into the
/// Network List Manager (a cross-process call to its service on Windows), so it never runs inside
/// <c>Collect</c>: a timer on the injected <see cref="TimeProvider"/> refreshes it every
/// <see cref="RefreshInterval"/>, at once when the default interface changes, and after a failure
/// only every <see cref="RetryInterval"/>. The COM object is created once and kept; a failed call
/// releases it and the retry creates a new one.
/// </summary>
internal sealed class WindowsMeteredMonitor : IDisposable
{
    /// <summary>
    /// 10 s, as NetworkManager is asked on Linux: the cost changes when the user switches networks
    /// or marks a connection metered in Settings, and one COM call every 10 s costs nothing that matters.
    /// </summary>
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// 30 s (<see cref="Rediscovery.DefaultInterval"/>): after the object could not be created or a
    /// call failed, the next try waits this long, so a machine without the Network List Manager
    /// (Server Core without the feature, a broken COM registration) is not retried every pass.
    /// </summary>
    internal static readonly TimeSpan RetryInterval = Rediscovery.DefaultInterval;

    internal const string WaitingReason = "waiting for the first INetworkCostManager::GetCost answer (asked in the background)";

    internal const string WineStubReason =
        "running under Wine, whose INetworkCostManager::GetCost is a stub that answers NLM_CONNECTION_COST_UNRESTRICTED (0x1) for every network; its answer is not believed";

    internal const string ChangedModeReason =
        "the refresh ran on a thread in a single-threaded apartment (RPC_E_CHANGED_MODE 0x80010106); COM was left as the host set it and nothing was called";

    private readonly INetworkCostApi _api;
    private readonly TimeProvider _timeProvider;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probeName;
    private readonly bool _isWine;
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private Answer _current = new(Reading.Unknown<bool>(WaitingReason));
    private bool _failing;
    private bool _disposed;

    /// <summary>Creates the monitor; the first refresh is scheduled at once on the timer (off the caller's thread with a real clock).</summary>
    public WindowsMeteredMonitor(INetworkCostApi api, TimeProvider timeProvider, IProbeFailureReporter failures, string probeName, bool isWine)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentException.ThrowIfNullOrWhiteSpace(probeName);
        _api = api;
        _timeProvider = timeProvider;
        _failures = failures;
        _probeName = probeName;
        _isWine = isWine;

        // The refreshes must not carry the creator's async-locals (an Activity, a logging scope).
        AsyncFlowControl? noFlow = ExecutionContext.IsFlowSuppressed() ? null : ExecutionContext.SuppressFlow();
        try
        {
            _timer = timeProvider.CreateTimer(static state => ((WindowsMeteredMonitor)state!).Refresh(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            noFlow?.Undo();
        }

        Schedule(TimeSpan.Zero);
    }

    /// <summary>The latest answer: Measured true or false, or Unknown with the reason.</summary>
    public Reading<bool> Current => Volatile.Read(ref _current).Metered;

    /// <summary>True after a failed creation or call, until an answer arrives: refreshes then wait <see cref="RetryInterval"/>.</summary>
    internal bool Failing
    {
        get
        {
            lock (_gate)
            {
                return _failing;
            }
        }
    }

    /// <summary>
    /// The default interface changed: ask again now (the machine's preferred connection is probably
    /// another one), unless a failure holds, whose retry is already scheduled.
    /// </summary>
    public void DefaultInterfaceChanged()
    {
        lock (_gate)
        {
            if (_failing || _disposed)
            {
                return;
            }
        }

        Schedule(TimeSpan.Zero);
    }

    /// <summary>Asks once and publishes the answer; schedules the next refresh. Never throws (it runs on a timer thread).</summary>
    internal void Refresh()
    {
        TimeSpan next;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            Reading<bool> answer = Ask(out bool failed);
            _failing = failed;
            Volatile.Write(ref _current, new Answer(answer));
            next = failed ? RetryInterval : RefreshInterval;
        }

        Schedule(next);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _timer.Dispose();
            _api.Dispose();
        }
    }

    private Reading<bool> Ask(out bool failed)
    {
        failed = true;
        if (!_api.IsCreated)
        {
            int created = _api.Create();
            if (created < 0)
            {
                DateTimeOffset at = _timeProvider.GetUtcNow();
                return created == ComResults.RpcEChangedMode
                    ? Fail("com-apartment", ChangedModeReason, at)
                    : Fail("com-create", string.Create(CultureInfo.InvariantCulture,
                        $"cannot create INetworkCostManager (CLSID_NetworkListManager): HRESULT 0x{created:X8}; retried every {RetryInterval.TotalSeconds:0} s"), at);
            }
        }

        int hr = _api.GetCost(out uint cost);
        DateTimeOffset now = _timeProvider.GetUtcNow();
        if (hr < 0)
        {
            // A dead object (the service restarted: RPC_E_DISCONNECTED) answers nothing ever again: drop it; the retry creates another.
            _api.Release();
            return hr == ComResults.RpcEChangedMode
                ? Fail("com-apartment", ChangedModeReason, now)
                : Fail("com-call", string.Create(CultureInfo.InvariantCulture,
                    $"{NetworkCost.Source} failed: HRESULT 0x{hr:X8}; retried every {RetryInterval.TotalSeconds:0} s"), now);
        }

        failed = false;
        if (_isWine)
        {
            return Reading.Unknown<bool>(WineStubReason, now);
        }

        Reading<bool> reading = NetworkCost.ToReading(cost, now);
        if (NetworkCost.Classify(cost) == NetworkCost.Verdict.Undocumented)
        {
            _failures.Report(_probeName, Plausible.OutOfRangeKind, reading.Reason!);
        }

        return reading;
    }

    private Reading<bool> Fail(string kind, string reason, DateTimeOffset at)
    {
        _failures.Report(_probeName, kind, reason);
        return Reading.Unknown<bool>(reason, at);
    }

    private void Schedule(TimeSpan dueTime)
    {
        // Change on a disposed timer returns false; a race with Dispose is harmless.
        _ = _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
    }

    /// <summary>One published answer (a class, so that it is swapped with one reference write).</summary>
    private sealed record Answer(Reading<bool> Metered);
}
