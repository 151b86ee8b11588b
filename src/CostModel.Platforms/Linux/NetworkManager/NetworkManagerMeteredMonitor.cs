using System.Globalization;
using System.Net.Sockets;
using CostModel.Factors;
using CostModel.Telemetry;
using Tmds.DBus.Protocol;

namespace CostModel.Platforms.Linux.NetworkManager;

/// <summary>
/// Keeps NetworkManager's answer to "is the default device metered?" in a cache that the
/// collection path reads with one reference read. The D-Bus calls run in the background: every
/// <see cref="NetworkManagerOptions.RefreshInterval"/> on the injected <see cref="TimeProvider"/>,
/// at once when the default interface changes, and with a doubling back-off after failures so a
/// missing bus or NetworkManager is not retried in a tight loop.
/// </summary>
internal sealed class NetworkManagerMeteredMonitor : IDisposable
{
    private const string ServiceUnknownError = "org.freedesktop.DBus.Error.ServiceUnknown";
    private const string NameHasNoOwnerError = "org.freedesktop.DBus.Error.NameHasNoOwner";
    private const string AccessDeniedError = "org.freedesktop.DBus.Error.AccessDenied";

    // 2^16 times the refresh interval is far beyond any sensible maximum back-off; capping the
    // exponent keeps the arithmetic finite however long the failures last.
    private const int MaxBackoffExponent = 16;

    private readonly NetworkManagerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probeName;
    private readonly NetworkManagerClient _client;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ITimer _timer;
    private string? _interface;
    private MeteredAnswer? _current;
    private int _consecutiveFailures;
    private Task? _scheduledRefresh;
    private volatile bool _disposed;

    public NetworkManagerMeteredMonitor(NetworkManagerOptions options, TimeProvider timeProvider, IProbeFailureReporter failures, string probeName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentException.ThrowIfNullOrWhiteSpace(probeName);
        _options = options;
        _timeProvider = timeProvider;
        _failures = failures;
        _probeName = probeName;
        _client = new NetworkManagerClient(options.BusAddress);

        // Armed by the first SetInterface with an interface; nothing runs before there is something to ask.
        // The background lookups must not carry the creator's async-locals (an Activity, a logging scope).
        AsyncFlowControl? noFlow = ExecutionContext.IsFlowSuppressed() ? null : ExecutionContext.SuppressFlow();
        try
        {
            _timer = timeProvider.CreateTimer(static state => ((NetworkManagerMeteredMonitor)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            noFlow?.Undo();
        }
    }

    /// <summary>The latest answer, or null before the first refresh finished.</summary>
    public MeteredAnswer? Current => Volatile.Read(ref _current);

    /// <summary>The interface the next refresh asks about (the default route's), or null for none.</summary>
    public string? Interface => Volatile.Read(ref _interface);

    /// <summary>The refresh the timer started last (tests await it after advancing a fake clock), or null before the first.</summary>
    internal Task? ScheduledRefresh => Volatile.Read(ref _scheduledRefresh);

    /// <summary>Failed refreshes in a row (0 after an answer); drives the back-off.</summary>
    internal int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>
    /// Sets the interface to ask about. Called on the collection thread when the default
    /// interface changes: it only arms a timer, never waits for D-Bus.
    /// </summary>
    public void SetInterface(string? interfaceName)
    {
        if (string.Equals(interfaceName, Interface, StringComparison.Ordinal))
        {
            return;
        }

        Volatile.Write(ref _interface, interfaceName);
        if (interfaceName is null || _disposed)
        {
            return;
        }

        // In back-off after a failure that holds for any interface (no bus, no NetworkManager):
        // the retry already scheduled asks about the new interface; asking now would defeat the back-off.
        if (ConsecutiveFailures > 0 && Current is { Interface: null })
        {
            return;
        }

        Schedule(TimeSpan.Zero);
    }

    /// <summary>
    /// Asks NetworkManager once about <see cref="Interface"/> and publishes the answer in
    /// <see cref="Current"/>; failures become an Unknown answer and are reported. Never throws.
    /// Tests await this instead of waiting for the timer.
    /// </summary>
    internal async Task RefreshAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            string? interfaceName = Interface;
            if (interfaceName is null || _disposed)
            {
                return;
            }

            MeteredAnswer answer = await AskAsync(interfaceName).ConfigureAwait(false);
            if (!_disposed)
            {
                Volatile.Write(ref _current, answer);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The delay before the next scheduled refresh: the refresh interval, or the back-off after failures.</summary>
    internal TimeSpan NextDelay()
    {
        int failures = ConsecutiveFailures;
        if (failures == 0)
        {
            return _options.RefreshInterval;
        }

        double factor = Math.Pow(2, Math.Min(failures, MaxBackoffExponent));
        double ticks = Math.Min(_options.RefreshInterval.Ticks * factor, _options.MaxBackoff.Ticks);
        return TimeSpan.FromTicks((long)Math.Max(ticks, _options.RefreshInterval.Ticks));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _timer.Dispose();

        // Disposing the connection ends a call in flight; its refresh sees _disposed and publishes nothing.
        _client.Dispose();
    }

    // On the thread pool: the timer callback returns at once (a fake clock would otherwise run the
    // whole lookup inside Advance, or inside the Change call made on the collection thread).
    private void OnTimer() => Volatile.Write(ref _scheduledRefresh, Task.Run(RunScheduledAsync));

    private async Task RunScheduledAsync()
    {
        await RefreshAsync().ConfigureAwait(false);
        Schedule(NextDelay());
    }

    private void Schedule(TimeSpan dueTime)
    {
        if (!_disposed)
        {
            // Change on a disposed timer returns false; a race with Dispose is harmless.
            _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task<MeteredAnswer> AskAsync(string interfaceName)
    {
        uint value;
        try
        {
            value = await _client.GetDeviceMeteredAsync(interfaceName, _options.CallTimeout, _timeProvider, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Every failure of the background lookup becomes an Unknown answer with its reason; none may escape to the timer thread.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            (string kind, string reason, bool anyInterface) = Classify(ex, interfaceName);
            return Fail(interfaceName, kind, reason, anyInterface);
        }

        DateTimeOffset at = _timeProvider.GetUtcNow();
        if (MeteredAnswer.FromNetworkManager(interfaceName, value, at) is not { } answer)
        {
            return Fail(interfaceName, "out-of-range",
                string.Create(CultureInfo.InvariantCulture, $"NetworkManager reported Metered={value} for {interfaceName}, outside the documented 0 to 4"),
                anyInterface: false);
        }

        Volatile.Write(ref _consecutiveFailures, 0);
        return answer;
    }

    private MeteredAnswer Fail(string interfaceName, string kind, string reason, bool anyInterface)
    {
        Interlocked.Increment(ref _consecutiveFailures);
        if (!_disposed)
        {
            _failures.Report(_probeName, kind, reason);
        }

        return new MeteredAnswer(anyInterface ? null : interfaceName, Reading.Unknown<bool>(reason, _timeProvider.GetUtcNow()));
    }

    private (string Kind, string Reason, bool AnyInterface) Classify(Exception ex, string interfaceName)
    {
        string address = _client.Address;
        return ex switch
        {
            DBusConnectFailedException connect when FindSocketError(connect) == SocketError.AccessDenied =>
                ("access-denied", $"no access to the system bus at {address}: {connect.Message}", true),
            DBusConnectFailedException connect =>
                ("missing", $"no system bus at {address}: {connect.Message}", true),
            DBusErrorReplyException { ErrorName: ServiceUnknownError or NameHasNoOwnerError } =>
                ("missing", $"NetworkManager is not running on the system bus at {address}", true),
            DBusErrorReplyException { ErrorName: NetworkManagerClient.UnknownDeviceError } =>
                ("missing", $"NetworkManager does not manage {interfaceName}", false),
            DBusErrorReplyException { ErrorName: AccessDeniedError } reply =>
                ("access-denied", $"the system bus denied the NetworkManager query: {reply.ErrorMessage}", true),
            DBusErrorReplyException reply =>
                ("io", $"NetworkManager answered {reply.ErrorName}: {reply.ErrorMessage}", false),
            TimeoutException =>
                ("io", string.Create(CultureInfo.InvariantCulture, $"NetworkManager did not answer within {_options.CallTimeout.TotalSeconds:0.#} s"), true),
            DBusConnectionException or DBusConnectionClosedException =>
                ("io", $"the system bus connection at {address} closed: {ex.Message}", true),
            InvalidDataException =>
                ("garbage", ex.Message, false),
            _ => ("io", $"NetworkManager query failed: {ex.GetType().Name}: {ex.Message}", false),
        };
    }

    private static SocketError? FindSocketError(Exception ex)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }

        return null;
    }
}
