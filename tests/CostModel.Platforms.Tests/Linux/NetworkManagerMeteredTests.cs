using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Linux;
using CostModel.Platforms.Linux.NetworkManager;
using CostModel.Telemetry;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tmds.DBus.Protocol;

using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// The NetworkManager metered lookup against a real, private <c>dbus-daemon</c> on which the test
/// serves a minimal NetworkManager-shaped object (GetDeviceByIpIface and Properties.Get "Metered").
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NetworkManagerMeteredTests : IAsyncLifetime
{
    // Long enough for a cold daemon start on a loaded CI machine; the address line normally arrives in milliseconds.
    private static readonly TimeSpan DaemonStartTimeout = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("costmodel-dbus-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();
    private readonly List<IDisposable> _disposables = [];
    private Process? _daemon;
    private string? _address;
    private string? _skipReason;

    public async ValueTask InitializeAsync()
    {
        string? daemon = FindOnPath("dbus-daemon");
        if (daemon is null)
        {
            _skipReason = "dbus-daemon is not installed (Debian/Ubuntu package: dbus-daemon, or dbus)";
            return;
        }

        string config = Path.Combine(_dir, "bus.conf");
        File.WriteAllText(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>session</type>
              <listen>unix:path={Path.Combine(_dir, "bus")}</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow send_destination="*" eavesdrop="true"/>
                <allow eavesdrop="true"/>
                <allow own="*"/>
              </policy>
            </busconfig>
            """);

        var start = new ProcessStartInfo(daemon)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--config-file=" + config);
        start.ArgumentList.Add("--print-address");
        start.ArgumentList.Add("--nofork");
        start.ArgumentList.Add("--nopidfile");
        _daemon = Process.Start(start) ?? throw new InvalidOperationException("dbus-daemon did not start");

        // The daemon prints its address once it listens: that line is the readiness signal.
        _address = await _daemon.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(DaemonStartTimeout);
        if (string.IsNullOrWhiteSpace(_address))
        {
            string error = await _daemon.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            throw new InvalidOperationException($"dbus-daemon printed no address: {error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _disposables.Count - 1; i >= 0; i--)
        {
            _disposables[i].Dispose();
        }

        if (_daemon is not null)
        {
            if (!_daemon.HasExited)
            {
                _daemon.Kill();
                await _daemon.WaitForExitAsync();
            }

            _daemon.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Guess_yes_is_metered_and_the_source_says_it_was_a_guess()
    {
        await ServeNetworkManagerAsync(("eth0", (uint)NMMetered.GuessYes));
        NetworkManagerMeteredMonitor monitor = CreateMonitor(BusAddress);
        monitor.SetInterface("eth0");

        await monitor.RefreshAsync();

        Reading<bool> metered = monitor.Current!.Metered;
        Assert.Equal(SignalQuality.Measured, metered.Quality);
        Assert.True(metered.Value);
        Assert.Contains("guess-yes", metered.Source, StringComparison.Ordinal);
        Assert.Contains("eth0", metered.Source, StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow(), metered.ObservedAt);
        Assert.Empty(_failures.Reports);
    }

    [Theory]
    [InlineData(1u, true, "Metered=yes (1)")]
    [InlineData(2u, false, "Metered=no (2)")]
    [InlineData(4u, false, "Metered=guess-no (4")]
    public async Task NetworkManager_metered_values_map_to_a_measured_flag(uint value, bool expected, string sourceText)
    {
        await ServeNetworkManagerAsync(("wlan0", value));
        NetworkManagerMeteredMonitor monitor = CreateMonitor(BusAddress);
        monitor.SetInterface("wlan0");

        await monitor.RefreshAsync();

        Reading<bool> metered = monitor.Current!.Metered;
        Assert.Equal(SignalQuality.Measured, metered.Quality);
        Assert.Equal(expected, metered.Value);
        Assert.Contains(sourceText, metered.Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metered_unknown_stays_unknown_because_NetworkManager_does_not_know()
    {
        await ServeNetworkManagerAsync(("eth0", (uint)NMMetered.Unknown));
        NetworkManagerMeteredMonitor monitor = CreateMonitor(BusAddress);
        monitor.SetInterface("eth0");

        await monitor.RefreshAsync();

        Reading<bool> metered = monitor.Current!.Metered;
        Assert.Equal(SignalQuality.Unknown, metered.Quality);
        Assert.Contains("NetworkManager does not know", metered.Reason, StringComparison.Ordinal);
        Assert.Empty(_failures.Reports);
        Assert.Equal(0, monitor.ConsecutiveFailures);
    }

    [Fact]
    public async Task Value_outside_NMMetered_is_unknown_and_reported_out_of_range()
    {
        await ServeNetworkManagerAsync(("eth0", 7u));
        NetworkManagerMeteredMonitor monitor = CreateMonitor(BusAddress);
        monitor.SetInterface("eth0");

        await monitor.RefreshAsync();

        Assert.Equal(SignalQuality.Unknown, monitor.Current!.Metered.Quality);
        Assert.Contains(_failures.Reports, r => r.Kind == "out-of-range");
    }

    [Fact]
    public async Task No_NetworkManager_on_the_bus_is_unknown_with_that_reason_for_any_interface()
    {
        string address = BusAddress; // the bus runs, nobody owns org.freedesktop.NetworkManager
        NetworkManagerMeteredMonitor monitor = CreateMonitor(address);
        monitor.SetInterface("eth0");

        await monitor.RefreshAsync();

        MeteredAnswer answer = monitor.Current!;
        Assert.Equal(SignalQuality.Unknown, answer.Metered.Quality);
        Assert.Contains("NetworkManager is not running", answer.Metered.Reason, StringComparison.Ordinal);
        Assert.Null(answer.Interface); // holds whatever the interface
        Assert.Contains(_failures.Reports, r => r.Probe == LinuxNetworkProbe.ProbeName && r.Kind == "missing");
    }

    [Fact]
    public async Task Device_NetworkManager_does_not_manage_is_unknown_with_that_reason()
    {
        await ServeNetworkManagerAsync(("wlan0", (uint)NMMetered.No));
        NetworkManagerMeteredMonitor monitor = CreateMonitor(BusAddress);
        monitor.SetInterface("eth0");

        await monitor.RefreshAsync();

        Assert.Equal(SignalQuality.Unknown, monitor.Current!.Metered.Quality);
        Assert.Contains("does not manage eth0", monitor.Current.Metered.Reason, StringComparison.Ordinal);
        Assert.Equal("eth0", monitor.Current.Interface);
    }

    [Fact]
    public async Task No_bus_at_all_is_unknown_and_retries_back_off_on_the_clock_up_to_the_cap()
    {
        // Needs no daemon: the socket does not exist.
        NetworkManagerMeteredMonitor monitor = CreateMonitor("unix:path=" + Path.Combine(_dir, "absent"));
        monitor.SetInterface("eth0");
        _time.Advance(TimeSpan.Zero);
        await monitor.ScheduledRefresh!;

        Assert.Contains("no system bus", monitor.Current!.Metered.Reason, StringComparison.Ordinal);
        Assert.Contains(_failures.Reports, r => r.Kind == "missing");
        Assert.Equal(1, monitor.ConsecutiveFailures);

        // Retries double from the refresh interval: 20 s, 40 s, ... up to 5 min, each on the injected clock.
        TimeSpan expected = NetworkManagerOptions.DefaultRefreshInterval * 2;
        for (int failures = 1; failures <= 8; failures++)
        {
            Assert.Equal(expected, monitor.NextDelay());
            Task previous = monitor.ScheduledRefresh!;
            _time.Advance(expected - TimeSpan.FromSeconds(1));
            Assert.Same(previous, monitor.ScheduledRefresh); // not retried early
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.False(ReferenceEquals(previous, monitor.ScheduledRefresh), $"retry {failures} did not run after {expected}");
            await monitor.ScheduledRefresh!;
            Assert.Equal(failures + 1, monitor.ConsecutiveFailures);
            expected = expected * 2 < NetworkManagerOptions.DefaultMaxBackoff ? expected * 2 : NetworkManagerOptions.DefaultMaxBackoff;
        }

        Assert.Equal(NetworkManagerOptions.DefaultMaxBackoff, monitor.NextDelay());
    }

    [Fact]
    public async Task Interface_change_asks_at_once_but_not_while_backing_off_from_a_missing_bus()
    {
        await ServeNetworkManagerAsync(("eth0", (uint)NMMetered.No), ("wlan0", (uint)NMMetered.Yes));
        NetworkManagerMeteredMonitor answering = CreateMonitor(BusAddress);
        answering.SetInterface("eth0");
        _time.Advance(TimeSpan.Zero);
        await answering.ScheduledRefresh!;
        Task afterEth0 = answering.ScheduledRefresh!;

        answering.SetInterface("wlan0");
        _time.Advance(TimeSpan.Zero);
        Assert.NotSame(afterEth0, answering.ScheduledRefresh); // asked at once, not after 10 s
        await answering.ScheduledRefresh!;
        Assert.True(answering.Current!.Metered.Value);

        NetworkManagerMeteredMonitor failing = CreateMonitor("unix:path=" + Path.Combine(_dir, "absent"));
        failing.SetInterface("eth0");
        _time.Advance(TimeSpan.Zero);
        await failing.ScheduledRefresh!;
        Task afterFailure = failing.ScheduledRefresh!;

        failing.SetInterface("wlan0");
        _time.Advance(TimeSpan.Zero);
        Assert.Same(afterFailure, failing.ScheduledRefresh); // the back-off holds
        Assert.Equal("wlan0", failing.Interface);             // and the retry will ask about wlan0
    }

    [Fact]
    public async Task Timer_refreshes_on_the_injected_clock_and_sees_a_changed_answer()
    {
        FakeNetworkManager networkManager = await ServeNetworkManagerAsync(("eth0", (uint)NMMetered.No));
        NetworkManagerMeteredMonitor monitor = CreateMonitor(BusAddress);

        monitor.SetInterface("eth0"); // arms the timer at once
        _time.Advance(TimeSpan.Zero);
        await monitor.ScheduledRefresh!;
        Assert.False(monitor.Current!.Metered.Value);

        networkManager.Set("eth0", (uint)NMMetered.Yes);
        Task before = monitor.ScheduledRefresh!;
        _time.Advance(NetworkManagerOptions.DefaultRefreshInterval - TimeSpan.FromSeconds(1));
        Assert.Same(before, monitor.ScheduledRefresh); // not due yet

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotSame(before, monitor.ScheduledRefresh);
        await monitor.ScheduledRefresh!;
        Assert.True(monitor.Current!.Metered.Value);
        Assert.Equal(2, networkManager.MeteredReads);
    }

    [Fact]
    public async Task Probe_reads_the_cached_answer_for_its_default_interface_and_follows_a_switch()
    {
        FakeNetworkManager networkManager = await ServeNetworkManagerAsync(("eth0", (uint)NMMetered.GuessYes), ("wwan0", (uint)NMMetered.No));
        string proc = Path.Combine(_dir, "proc");
        Directory.CreateDirectory(Path.Combine(proc, "net"));
        WriteDefaultRoute(proc, "eth0");
        File.WriteAllText(Path.Combine(proc, "net", "dev"), "Inter-|\n face |\n  eth0: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n wwan0: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n");
        var probe = new LinuxNetworkProbe(
            Options.Create(new LinuxProbeOptions { ProcRoot = proc, SysRoot = Path.Combine(_dir, "sys") }),
            _failures, _time, new NetworkManagerOptions { BusAddress = BusAddress });
        _disposables.Add(probe);

        Collect(probe);
        await probe.MeteredMonitor!.RefreshAsync();
        NetworkFactors onEth0 = Collect(probe);

        WriteDefaultRoute(proc, "wwan0");

        // The route table is re-read after its interval; the refresh the timer started must end
        // first, or advancing the fake clock would time its D-Bus call out (CallTimeout is 5 s too).
        await (probe.MeteredMonitor.ScheduledRefresh ?? Task.CompletedTask);
        _time.Advance(Cadence.RouteInterval);
        NetworkFactors switching = Collect(probe);
        await probe.MeteredMonitor.RefreshAsync();
        NetworkFactors onWwan0 = Collect(probe);

        Assert.True(onEth0.Metered.Value);
        Assert.Equal(SignalQuality.Measured, onEth0.Metered.Quality);
        Assert.Equal("wwan0", switching.DefaultInterface);
        Assert.True(
            switching.Metered.Reason == "waiting for NetworkManager's answer about wwan0"
            || switching.Metered is { HasValue: true, Value: false },
            $"the eth0 answer must not be shown for wwan0: {switching.Metered}");
        Assert.Equal(SignalQuality.Measured, onWwan0.Metered.Quality);
        Assert.False(onWwan0.Metered.Value);
        Assert.True(networkManager.MeteredReads >= 2);
    }

    [Fact]
    public async Task Dispose_stops_refreshing_and_publishes_nothing_more()
    {
        FakeNetworkManager networkManager = await ServeNetworkManagerAsync(("eth0", (uint)NMMetered.No));
        NetworkManagerMeteredMonitor monitor = CreateMonitor(BusAddress);
        monitor.SetInterface("eth0");
        await monitor.RefreshAsync();
        MeteredAnswer before = monitor.Current!;
        int reads = networkManager.MeteredReads;

        monitor.Dispose();
        networkManager.Set("eth0", (uint)NMMetered.Yes);
        _time.Advance(TimeSpan.FromMinutes(10));
        await monitor.RefreshAsync();

        Assert.Same(before, monitor.Current);
        Assert.Equal(reads, networkManager.MeteredReads);
    }

    private string BusAddress
    {
        get
        {
            if (_skipReason is not null)
            {
                Assert.Skip(_skipReason);
            }

            return _address!;
        }
    }

    private NetworkManagerMeteredMonitor CreateMonitor(string address)
    {
        var monitor = new NetworkManagerMeteredMonitor(new NetworkManagerOptions { BusAddress = address }, _time, _failures, LinuxNetworkProbe.ProbeName);
        _disposables.Add(monitor);
        Assert.False(ExecutionContext.IsFlowSuppressed()); // the constructor restores the caller's flow
        return monitor;
    }

    private async Task<FakeNetworkManager> ServeNetworkManagerAsync(params (string Interface, uint Metered)[] devices)
    {
        var connection = new DBusConnection(BusAddress);
        _disposables.Add(connection);
        await connection.ConnectAsync();
        var networkManager = new FakeNetworkManager(devices);
        connection.AddMethodHandler(networkManager);
        Assert.True(await connection.TryRequestNameAsync(NetworkManagerClient.ServiceName));
        return networkManager;
    }

    private NetworkFactors Collect(LinuxNetworkProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Network;
    }

    private static void WriteDefaultRoute(string proc, string iface) =>
        File.WriteAllText(Path.Combine(proc, "net", "route"),
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
            $"{iface}\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");

    private static string? FindOnPath(string program)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The part of NetworkManager the client uses: GetDeviceByIpIface on the manager object and
    /// Properties.Get("org.freedesktop.NetworkManager.Device", "Metered") on each device, with
    /// NetworkManager's own error for an unknown interface.
    /// </summary>
    private sealed class FakeNetworkManager : IPathMethodHandler
    {
        private readonly ConcurrentDictionary<string, uint> _meteredByInterface = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _interfaceByPath = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _pathByInterface = new(StringComparer.Ordinal);
        private int _meteredReads;

        public FakeNetworkManager((string Interface, uint Metered)[] devices)
        {
            int index = 2;
            foreach ((string iface, uint metered) in devices)
            {
                string path = string.Create(CultureInfo.InvariantCulture, $"{NetworkManagerClient.ManagerPath}/Devices/{index++}");
                _pathByInterface[iface] = path;
                _interfaceByPath[path] = iface;
                _meteredByInterface[iface] = metered;
            }
        }

        public string Path => NetworkManagerClient.ManagerPath;

        public bool HandlesChildPaths => true;

        public int MeteredReads => Volatile.Read(ref _meteredReads);

        public void Set(string iface, uint metered) => _meteredByInterface[iface] = metered;

        public ValueTask HandleMethodAsync(MethodContext context)
        {
            Message request = context.Request;
            string path = request.PathAsString ?? "";
            string member = request.MemberAsString ?? "";
            string iface = request.InterfaceAsString ?? "";

            if (path == NetworkManagerClient.ManagerPath && iface == NetworkManagerClient.ManagerInterface && member == "GetDeviceByIpIface")
            {
                string name = request.GetBodyReader().ReadString();
                if (_pathByInterface.TryGetValue(name, out string? device))
                {
                    using MessageWriter writer = context.CreateReplyWriter("o");
                    writer.WriteObjectPath(device);
                    context.Reply(writer.CreateMessage());
                }
                else
                {
                    context.ReplyError(NetworkManagerClient.UnknownDeviceError, "No device found for the requested iface.");
                }
            }
            else if (iface == NetworkManagerClient.PropertiesInterface && member == "Get" && _interfaceByPath.TryGetValue(path, out string? name))
            {
                Reader reader = request.GetBodyReader();
                string propertyInterface = reader.ReadString();
                string property = reader.ReadString();
                if (propertyInterface == NetworkManagerClient.DeviceInterface && property == "Metered")
                {
                    Interlocked.Increment(ref _meteredReads);
                    using MessageWriter writer = context.CreateReplyWriter("v");
                    writer.WriteVariantUInt32(_meteredByInterface[name]);
                    context.Reply(writer.CreateMessage());
                }
                else
                {
                    context.ReplyError("org.freedesktop.DBus.Error.UnknownProperty", $"No property {propertyInterface}.{property}");
                }
            }
            else
            {
                context.ReplyUnknownMethodError();
            }

            return default;
        }
    }
}
