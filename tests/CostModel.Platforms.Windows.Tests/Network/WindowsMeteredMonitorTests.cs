using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Windows.Network;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Network;

public sealed class WindowsMeteredMonitorTests : IDisposable
{
    private const int RegdbEClassNotReg = unchecked((int)0x80040154);
    private const int RpcEDisconnected = unchecked((int)0x80010108);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeCostApi _api = new();
    private readonly RecordingProbeFailureReporter _failures = new();

    public void Dispose() => _api.Dispose();

    [Fact]
    public void The_first_answer_is_asked_off_the_callers_path_and_until_then_metered_is_unknown_waiting()
    {
        var time = new FakeTimeProvider(_time.GetUtcNow()) { AutoAdvanceAmount = TimeSpan.Zero };
        _api.Cost = NetworkCost.Fixed;
        using var monitor = new WindowsMeteredMonitor(_api, time, _failures, "windows.network", isWine: false);

        // A fake clock runs a zero-delay timer at once; the real clock runs it on the thread pool.
        Reading<bool> metered = monitor.Current;

        Assert.Equal(1, _api.Creates);
        Assert.True(metered.Value);
    }

    [Fact]
    public void The_object_is_created_once_and_kept_while_the_cost_is_refreshed_every_10_seconds()
    {
        using WindowsMeteredMonitor monitor = Create();
        _time.Advance(WindowsMeteredMonitor.RefreshInterval - TimeSpan.FromSeconds(1));
        Assert.Equal(1, _api.Calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        _time.Advance(WindowsMeteredMonitor.RefreshInterval);

        Assert.Equal(3, _api.Calls);
        Assert.Equal(1, _api.Creates);
        Assert.Equal(0, _api.Releases);
        Assert.False(monitor.Current.Value);
    }

    [Fact]
    public void A_creation_failure_is_unknown_with_the_hresult_and_retried_every_30_seconds_not_every_pass()
    {
        _api.CreateResult = RegdbEClassNotReg;
        using WindowsMeteredMonitor monitor = Create();

        Reading<bool> metered = monitor.Current;
        Assert.Equal(SignalQuality.Unknown, metered.Quality);
        Assert.Contains("HRESULT 0x80040154", metered.Reason, StringComparison.Ordinal);
        Assert.Contains("CLSID_NetworkListManager", metered.Reason, StringComparison.Ordinal);
        Assert.Equal(["com-create"], _failures.Kinds);
        Assert.True(monitor.Failing);

        // A default interface change does not cut the retry short.
        monitor.DefaultInterfaceChanged();
        _time.Advance(WindowsMeteredMonitor.RetryInterval - TimeSpan.FromSeconds(1));
        Assert.Equal(1, _api.Creates);

        _api.CreateResult = 0;
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, _api.Creates);
        Assert.Equal(SignalQuality.Measured, monitor.Current.Quality);
        Assert.False(monitor.Failing);
        Assert.Equal(Rediscovery.DefaultInterval, WindowsMeteredMonitor.RetryInterval);
    }

    [Fact]
    public void A_failed_call_releases_the_object_and_the_retry_after_30_seconds_creates_a_new_one()
    {
        using WindowsMeteredMonitor monitor = Create();
        _api.GetCostResult = RpcEDisconnected;
        _time.Advance(WindowsMeteredMonitor.RefreshInterval);

        Assert.Equal(SignalQuality.Unknown, monitor.Current.Quality);
        Assert.Contains("INetworkCostManager::GetCost failed: HRESULT 0x80010108", monitor.Current.Reason, StringComparison.Ordinal);
        Assert.Equal(1, _api.Releases);
        Assert.Equal(["com-call"], _failures.Kinds);

        _api.GetCostResult = 0;
        _time.Advance(WindowsMeteredMonitor.RetryInterval);
        Assert.Equal(2, _api.Creates);
        Assert.Equal(SignalQuality.Measured, monitor.Current.Quality);
    }

    [Fact]
    public void A_refresh_on_a_single_threaded_apartment_thread_is_unknown_with_the_reason_and_retried_later()
    {
        _api.CreateResult = ComResults.RpcEChangedMode;
        using WindowsMeteredMonitor monitor = Create();

        Assert.Equal(WindowsMeteredMonitor.ChangedModeReason, monitor.Current.Reason);
        Assert.Equal(["com-apartment"], _failures.Kinds);
        Assert.True(monitor.Failing);
    }

    [Fact]
    public void Under_wine_the_stub_answer_is_not_believed()
    {
        _api.Cost = NetworkCost.Unrestricted;
        using var monitor = new WindowsMeteredMonitor(_api, _time, _failures, "windows.network", isWine: true);

        Assert.Equal(SignalQuality.Unknown, monitor.Current.Quality);
        Assert.Equal(WindowsMeteredMonitor.WineStubReason, monitor.Current.Reason);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Undocumented_cost_bits_are_unknown_and_reported_out_of_range()
    {
        _api.Cost = NetworkCost.Unrestricted | 0x100;
        using WindowsMeteredMonitor monitor = Create();

        Assert.Equal(SignalQuality.Unknown, monitor.Current.Quality);
        Assert.Contains("undocumented 0x100", monitor.Current.Reason, StringComparison.Ordinal);
        Assert.Equal([Plausible.OutOfRangeKind], _failures.Kinds);
    }

    [Fact]
    public void Dispose_stops_the_refreshes_and_releases_the_com_object()
    {
        WindowsMeteredMonitor monitor = Create();
        monitor.Dispose();
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, _api.Calls);
        Assert.True(_api.Disposed);
    }

    private WindowsMeteredMonitor Create() => new(_api, _time, _failures, "windows.network", isWine: false);
}
