using CostModel.Platforms.Gpu;
using Microsoft.Extensions.Time.Testing;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Gpu;

public sealed class NvidiaSmiMonitorTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeProcessRunner _runner = new();
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly NvidiaSmiMonitor _monitor;

    public NvidiaSmiMonitorTests()
    {
        _monitor = new NvidiaSmiMonitor("/usr/bin/nvidia-smi", _runner, _time, Timeout, _failures, "linux.gpu");
    }

    public void Dispose() => _monitor.Dispose();

    private static Task<ProcessOutput> Answer(string stdout) => Task.FromResult(new ProcessOutput(0, stdout, ""));

    [Fact]
    public void Runs_on_the_timer_and_publishes_what_it_parsed()
    {
        _runner.Respond = (_, _) => Answer(NvidiaSmiCsvTests.HgxH100);
        Assert.Equal(0, _runner.Calls); // nothing runs before Start

        _monitor.Start();
        _time.Advance(TimeSpan.Zero);

        Assert.Equal(1, _runner.Calls);
        NvidiaSmiState state = _monitor.State;
        Assert.Equal(4, state.Devices.Length);
        Assert.Equal(_time.GetUtcNow(), state.ObservedAt);
        Assert.Null(state.LastError);

        _time.Advance(NvidiaSmiMonitor.RefreshInterval);
        Assert.Equal(2, _runner.Calls);
        Assert.Equal(_time.GetUtcNow(), _monitor.State.ObservedAt);
    }

    [Fact]
    public async Task Kills_a_run_that_exceeds_the_timeout_and_keeps_the_last_answer()
    {
        _runner.Respond = (_, _) => Answer(NvidiaSmiCsvTests.HgxH100);
        await _monitor.RefreshAsync();
        DateTimeOffset? answeredAt = _monitor.State.ObservedAt;

        _runner.Respond = (_, token) => _runner.Hang(token);
        Task run = _monitor.RefreshAsync();
        Assert.False(run.IsCompleted);
        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(run.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await run;

        Assert.Equal(1, _runner.Killed);
        NvidiaSmiState state = _monitor.State;
        Assert.Equal("/usr/bin/nvidia-smi did not answer within 2 s and was killed", state.LastError);
        Assert.Equal(answeredAt, state.ObservedAt);
        Assert.Equal(4, state.Devices.Length);
        Assert.Equal("timeout", Assert.Single(_failures.Reports).Kind);
    }

    [Fact]
    public void A_hung_run_is_not_joined_by_a_second_one()
    {
        using var slow = new NvidiaSmiMonitor("/usr/bin/nvidia-smi", _runner, _time, TimeSpan.FromMinutes(1), _failures, "linux.gpu");
        _runner.Respond = (_, token) => _runner.Hang(token);

        slow.Start();
        _time.Advance(NvidiaSmiMonitor.RefreshInterval * 3);

        Assert.Equal(1, _runner.Calls);
    }

    [Fact]
    public async Task Falls_back_to_older_field_names_when_the_driver_rejects_a_field()
    {
        _runner.Respond = (args, _) => args[0].Contains("clocks_event_reasons", StringComparison.Ordinal)
            ? Task.FromResult(new ProcessOutput(2, "Field \"clocks_event_reasons.active\" is not a valid field to query.\n", ""))
            : Answer(NvidiaSmiCsvTests.A100WithMig);

        await _monitor.RefreshAsync();
        await _monitor.RefreshAsync();

        Assert.Equal(2, _monitor.State.Devices.Length);
        Assert.Null(_monitor.State.LastError);
        Assert.Equal(3, _runner.Calls); // the rejected query is not asked again
        Assert.Contains("clocks_throttle_reasons.active", _runner.Arguments[2][0], StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public async Task A_failing_tool_leaves_no_devices_and_says_why()
    {
        _runner.Respond = (_, _) => Task.FromResult(new ProcessOutput(9,
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n", ""));

        await _monitor.RefreshAsync();

        NvidiaSmiState state = _monitor.State;
        Assert.Empty(state.Devices);
        Assert.Null(state.ObservedAt);
        Assert.StartsWith("/usr/bin/nvidia-smi exited with code 9: NVIDIA-SMI has failed", state.LastError, StringComparison.Ordinal);
        Assert.Equal("io", Assert.Single(_failures.Reports).Kind);
    }

    [Fact]
    public async Task A_tool_that_cannot_start_is_an_io_failure_not_an_exception()
    {
        _runner.Respond = (_, _) => throw new System.ComponentModel.Win32Exception(2, "No such file or directory");

        await _monitor.RefreshAsync();

        Assert.Contains("could not be run: No such file or directory", _monitor.State.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void Disposing_cancels_a_running_tool()
    {
        var monitor = new NvidiaSmiMonitor("/usr/bin/nvidia-smi", _runner, _time, TimeSpan.FromMinutes(1), _failures, "linux.gpu");
        _runner.Respond = (_, token) => _runner.Hang(token);
        monitor.Start();
        Assert.Equal(1, _runner.Calls);

        monitor.Dispose();

        Assert.Equal(1, _runner.Killed);
        Assert.Empty(_failures.Reports); // stopping is not a failure
    }
}
