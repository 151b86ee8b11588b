using System.Globalization;
using System.Net.Sockets;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Network;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Network;

/// <summary>
/// The real IP Helper and Network List Manager paths. They skip off Windows; under Wine (.ci/wine-tests)
/// they run for real, and the Wine-only ones cross-check against Linux's /proc through Z:\.
/// </summary>
public sealed class Win32NetworkTests
{
    // ERROR_NETWORK_UNREACHABLE, ERROR_HOST_UNREACHABLE, ERROR_NOT_FOUND: a machine without a route.
    private static readonly uint[] NoRoute = [1168, 1231, 1232];

    [Fact]
    public void GetBestInterfaceEx_answers_an_index_whose_GetIfEntry2_row_is_that_interface()
    {
        Win32.Require();
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        uint error = Win32NetworkApi.Instance.GetBestInterface(AddressFamily.InterNetwork, out uint index);
        Log($"GetBestInterfaceEx(8.8.8.8): error {error}, index {index}");
        if (error != 0)
        {
            Assert.Contains(error, NoRoute);
            return;
        }

        var row = default(MibIfRow2);
        row.InterfaceIndex = index;
        Assert.Equal(0u, Win32NetworkApi.Instance.GetIfEntry(ref row));
        Log($"GetIfEntry2({index}): alias '{row.AliasSpan}', description '{row.DescriptionSpan}', type {row.Type}, oper {row.OperStatus}, " +
            $"luid 0x{row.InterfaceLuid:X}, in {row.InOctets}, out {row.OutOctets}, link {row.ReceiveLinkSpeed}/{row.TransmitLinkSpeed} bits/s");
        Assert.Equal(index, row.InterfaceIndex);
        Assert.NotEqual(0UL, row.InterfaceLuid);
        Assert.False(row.AliasSpan.IsEmpty);
        Assert.NotEqual(MibIfRow2.TypeSoftwareLoopback, row.Type);
    }

    [Fact]
    public void GetIfEntry2_of_an_index_that_names_no_interface_fails_instead_of_inventing_a_row()
    {
        Win32.Require();
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        var row = default(MibIfRow2);
        row.InterfaceIndex = 0x7FFF_FFF0;
        uint error = Win32NetworkApi.Instance.GetIfEntry(ref row);
        Log($"GetIfEntry2(0x7FFFFFF0): error {error}");

        Assert.NotEqual(0u, error);
    }

    [Fact]
    public void Under_wine_the_default_interface_is_the_linux_default_routes_and_InOctets_come_from_proc_net_dev()
    {
        Win32.RequireWine();
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        string? linuxDefault = LinuxDefaultInterface();
        Assert.SkipWhen(linuxDefault is null, "this Linux host has no IPv4 default route in /proc/net/route");

        Assert.Equal(0u, Win32NetworkApi.Instance.GetBestInterface(AddressFamily.InterNetwork, out uint index));
        var row = default(MibIfRow2);
        row.InterfaceIndex = index;

        (ulong rxBefore, ulong txBefore) = LinuxCounters(linuxDefault!);
        Assert.Equal(0u, Win32NetworkApi.Instance.GetIfEntry(ref row));
        (ulong rxAfter, ulong txAfter) = LinuxCounters(linuxDefault!);
        Log($"Linux {linuxDefault}: rx {rxBefore}..{rxAfter}, tx {txBefore}..{txAfter}; Wine '{row.AliasSpan}': in {row.InOctets}, out {row.OutOctets}, link {row.ReceiveLinkSpeed} bits/s");

        // Wine maps each Linux interface to one Windows interface named after it.
        Assert.Equal(linuxDefault, row.AliasSpan.ToString());
        Assert.InRange(row.InOctets, rxBefore, rxAfter);
        Assert.InRange(row.OutOctets, txBefore, txAfter);
    }

    [Fact]
    public void The_probe_on_the_real_calls_names_the_default_interface_and_measures_rates()
    {
        Win32.Require();
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var failures = new RecordingProbeFailureReporter();
        using var probe = new WindowsNetworkProbe(failures, time);

        NetworkFactors first = Collect(probe, time);
        time.Advance(TimeSpan.FromSeconds(1));
        NetworkFactors second = Collect(probe, time);
        Log($"probe: interface '{second.DefaultInterface}', rx {second.ReceiveBytesPerSecond}, tx {second.TransmitBytesPerSecond}, " +
            $"bandwidth {second.BandwidthBitsPerSecond}, metered {second.Metered}; failures [{string.Join("; ", failures.Reports)}]");

        if (first.DefaultInterface is null)
        {
            Assert.Contains("no default route", first.ReceiveBytesPerSecond.Reason, StringComparison.Ordinal);
            return;
        }

        Assert.Equal(WindowsNetworkProbe.FirstSampleReason, first.ReceiveBytesPerSecond.Reason);
        Assert.Equal(SignalQuality.Estimated, second.ReceiveBytesPerSecond.Quality);
        Assert.True(second.ReceiveBytesPerSecond.Value >= 0);
        Assert.True(second.TransmitBytesPerSecond.Value >= 0);
        Assert.Equal(SignalQuality.Unknown, second.BandwidthBitsPerSecond.Quality);
        Assert.DoesNotContain(failures.Reports, r => r.Kind is not ("com-create" or "com-call"));
        if (Win32.IsWine)
        {
            Assert.Equal(LinuxDefaultInterface(), second.DefaultInterface);

            // Wine 8 reports link speed 0 ("not reported"); later Wine versions a fixed 1 Mbit/s for every interface.
            Assert.Matches(@"link speed receive (not reported \(0\)|1000000 bits/s)", second.BandwidthBitsPerSecond.Reason);
        }
    }

    [Fact]
    public void The_cost_manager_is_created_in_the_mta_and_answers_get_cost_or_an_hresult()
    {
        Win32.Require();
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        using var api = new NetworkCostManagerApi();
        int created = api.Create();
        uint cost = 0;
        int call = created < 0 ? created : api.GetCost(out cost);
        Log(string.Create(CultureInfo.InvariantCulture, $"CoCreateInstance(CLSID_NetworkListManager, IID_INetworkCostManager): 0x{created:X8}; GetCost: 0x{call:X8}, cost {NetworkCost.Describe(cost)}"));

        if (created < 0)
        {
            Assert.False(api.IsCreated);
            return;
        }

        Assert.True(api.IsCreated);
        Assert.Equal(0, api.Create()); // kept: no second object
        if (call >= 0 && Win32.IsWine)
        {
            // Wine's netprofm: a FIXME stub that always answers UNRESTRICTED.
            Assert.Equal(NetworkCost.Unrestricted, cost);
        }

        api.Release();
        Assert.False(api.IsCreated);
    }

    [Fact]
    public void The_metered_reading_on_the_real_com_path_is_honest_about_what_it_got()
    {
        Win32.Require();
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var failures = new RecordingProbeFailureReporter();
        using var monitor = new WindowsMeteredMonitor(new NetworkCostManagerApi(), time, failures, WindowsNetworkProbe.ProbeName, Win32.IsWine);

        Reading<bool> metered = monitor.Current;
        Log($"metered: {metered}; failures [{string.Join("; ", failures.Reports)}]");

        if (failures.Reports.Count > 0)
        {
            Assert.Equal(SignalQuality.Unknown, metered.Quality);
            Assert.Contains("HRESULT 0x", metered.Reason, StringComparison.Ordinal);
        }
        else if (Win32.IsWine)
        {
            Assert.Equal(WindowsMeteredMonitor.WineStubReason, metered.Reason);
        }
        else
        {
            Assert.NotEqual(WindowsMeteredMonitor.WaitingReason, metered.Reason);
        }
    }

    [Fact]
    public void On_a_single_threaded_apartment_thread_nothing_is_called_and_the_hosts_apartment_is_left_as_it_was()
    {
        Win32.Require();
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        int first = 0;
        int second = 0;
        bool called = false;
        var thread = new Thread(() =>
        {
            if (!OperatingSystem.IsWindows())
            {
                return;
            }

            first = NetworkCostManagerApi.InMta(0, _ => { called = true; return 0; });

            // Had the first call uninitialised the host's STA, this one would enter the MTA and succeed.
            second = NetworkCostManagerApi.InMta(0, _ => { called = true; return 0; });
        });
        thread.SetApartmentState(ApartmentState.STA);
        thread.Start();
        thread.Join();
        Log(string.Create(CultureInfo.InvariantCulture, $"InMta on an STA thread: 0x{first:X8}, then 0x{second:X8}"));

        Assert.Equal(ComResults.RpcEChangedMode, first);
        Assert.Equal(ComResults.RpcEChangedMode, second);
        Assert.False(called);
    }

    private static NetworkFactors Collect(WindowsNetworkProbe probe, TimeProvider time)
    {
        var snapshot = new SnapshotBuilder(time);
        probe.Collect(snapshot);
        return snapshot.Network;
    }

    /// <summary>The lowest-metric IPv4 default route's interface in Linux's /proc/net/route, seen through Wine's Z:\.</summary>
    private static string? LinuxDefaultInterface()
    {
        string? best = null;
        long bestMetric = long.MaxValue;
        foreach (string line in File.ReadLines(@"Z:\proc\net\route").Skip(1))
        {
            string[] f = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 8 && f[1] == "00000000" && f[7] == "00000000"
                && (int.Parse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 1) != 0
                && long.Parse(f[6], CultureInfo.InvariantCulture) < bestMetric)
            {
                best = f[0];
                bestMetric = long.Parse(f[6], CultureInfo.InvariantCulture);
            }
        }

        return best;
    }

    private static (ulong Receive, ulong Transmit) LinuxCounters(string name)
    {
        foreach (string line in File.ReadLines(@"Z:\proc\net\dev"))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == name)
            {
                string[] f = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return (ulong.Parse(f[0], CultureInfo.InvariantCulture), ulong.Parse(f[8], CultureInfo.InvariantCulture));
            }
        }

        throw new InvalidOperationException($"{name} is not in /proc/net/dev");
    }

    private static void Log(string message) => TestContext.Current.TestOutputHelper?.WriteLine(message);
}
