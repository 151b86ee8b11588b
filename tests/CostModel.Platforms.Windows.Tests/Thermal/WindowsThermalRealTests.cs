using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Thermal;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Thermal;

/// <summary>
/// The real <c>CallNtPowerInformation(ProcessorInformation)</c>: on Windows, and here under Wine
/// (.ci/wine-tests), where Wine answers from Linux's cpufreq files or <c>/proc/cpuinfo</c>, read
/// here through Wine's <c>Z:\</c> drive to cross-check.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsThermalRealTests
{
    private const int StatusBufferTooSmall = unchecked((int)0xC0000023);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();

    [Fact]
    public void Every_active_processor_is_answered_and_the_probe_ratio_follows_from_the_entries()
    {
        Win32.Require();
        ProcessorPowerInformation[] cpus = ReadRaw();
        ThermalFactors thermal = CollectReal(new Win32ProcessorPowerApi());
        Log(cpus, thermal);

        Assert.Empty(_failures.Reports);
        Assert.Equal(Enumerable.Range(0, cpus.Length).Select(i => (uint)i), cpus.Select(c => c.Number));
        Assert.All(cpus, c => Assert.InRange(c.MaxMhz, 1u, 20_000u));
        double expected = 1 - ((double)cpus.Sum(c => (long)Math.Min(c.MhzLimit, c.MaxMhz)) / cpus.Sum(c => (long)c.MaxMhz));
        Assert.Equal(expected, thermal.ThrottleRatio.Value, 12);
        Assert.Equal(SignalQuality.Estimated, thermal.ThrottleRatio.Quality);
        Assert.Equal(SignalQuality.NotSupported, thermal.HottestCelsius.Quality);
    }

    [Fact]
    public void A_buffer_for_one_processor_on_a_multiprocessor_answers_STATUS_BUFFER_TOO_SMALL()
    {
        Win32.Require();
        var api = new Win32ProcessorPowerApi();
        Assert.True(api.TryGetActiveProcessorCount(out int count, out _));
        Assert.SkipWhen(count < 2, "needs two or more processors to make a one-entry buffer too small");

        var one = new ProcessorPowerInformation[1];
        Assert.Equal(StatusBufferTooSmall, api.GetProcessorInformation(one));
    }

    [Fact]
    public void The_probe_started_with_too_small_a_count_grows_to_the_real_one_in_its_first_pass()
    {
        Win32.Require();
        var real = new Win32ProcessorPowerApi();
        Assert.True(real.TryGetActiveProcessorCount(out int count, out _));
        var undercounting = new UndercountingApi(real);
        var probe = new WindowsThermalProbe(undercounting, _failures);
        Assert.Equal(1, probe.BufferLength);
        undercounting.Undercount = false;

        ThermalFactors thermal = CollectReal(probe);

        Assert.True(thermal.ThrottleRatio.HasValue, thermal.ThrottleRatio.Reason);
        Assert.Equal(count, probe.BufferLength);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Under_Wine_each_rated_clock_matches_what_Linux_reports()
    {
        Win32.RequireWine();
        ProcessorPowerInformation[] cpus = ReadRaw();
        Log(cpus, CollectReal(new Win32ProcessorPowerApi()));

        // Wine (dlls/ntdll/unix/system.c, ProcessorInformation) takes MaxMhz from cpufreq's
        // cpuinfo_max_freq (kHz) and MhzLimit from scaling_max_freq; without cpufreq, every
        // processor gets the first "cpu MHz" of /proc/cpuinfo, truncated, for all three clocks.
        foreach (ProcessorPowerInformation cpu in cpus)
        {
            string cpufreq = string.Create(CultureInfo.InvariantCulture, $@"Z:\sys\devices\system\cpu\cpu{cpu.Number}\cpufreq");
            if (Directory.Exists(cpufreq))
            {
                Assert.Equal(Khz(Path.Combine(cpufreq, "cpuinfo_max_freq")) / 1000, cpu.MaxMhz);
                Assert.Equal(Khz(Path.Combine(cpufreq, "scaling_max_freq")) / 1000, cpu.MhzLimit);
            }
            else
            {
                uint mhz = FirstCpuMhz();
                Assert.Equal(mhz, cpu.MaxMhz);
                Assert.Equal(mhz, cpu.MhzLimit);
                Assert.Equal(mhz, cpu.CurrentMhz);
            }
        }
    }

    [SupportedOSPlatform("windows")]
    private static ProcessorPowerInformation[] ReadRaw()
    {
        var api = new Win32ProcessorPowerApi();
        Assert.True(api.TryGetActiveProcessorCount(out int count, out int error), $"GetActiveProcessorCount failed: Win32 error {error}");
        var cpus = new ProcessorPowerInformation[count];
        int nt = api.GetProcessorInformation(cpus);
        Assert.True(nt == 0, $"CallNtPowerInformation(ProcessorInformation) returned 0x{nt:X8}");
        return cpus;
    }

    private ThermalFactors CollectReal(IProcessorPowerApi api) => CollectReal(new WindowsThermalProbe(api, _failures));

    private ThermalFactors CollectReal(WindowsThermalProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Thermal;
    }

    private static uint Khz(string path) => uint.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);

    private static uint FirstCpuMhz()
    {
        string line = File.ReadLines(@"Z:\proc\cpuinfo").First(l => l.StartsWith("cpu MHz", StringComparison.Ordinal));
        return (uint)double.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
    }

    private static void Log(ProcessorPowerInformation[] cpus, ThermalFactors thermal)
    {
        foreach (ProcessorPowerInformation c in cpus)
        {
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"PROCESSOR_POWER_INFORMATION: Number={c.Number} MaxMhz={c.MaxMhz} CurrentMhz={c.CurrentMhz} MhzLimit={c.MhzLimit} MaxIdleState={c.MaxIdleState} CurrentIdleState={c.CurrentIdleState}"));
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"probe: ThrottleRatio={thermal.ThrottleRatio} Level={thermal.Level} HottestCelsius={thermal.HottestCelsius} ThrottleEvents={thermal.ThrottleEvents}");
    }

    /// <summary>The real API, but its processor count says 1 until told otherwise (a processor added after start).</summary>
    private sealed class UndercountingApi(IProcessorPowerApi real) : IProcessorPowerApi
    {
        public bool Undercount { get; set; } = true;

        public bool TryGetActiveProcessorCount(out int count, out int error)
        {
            bool ok = real.TryGetActiveProcessorCount(out count, out error);
            if (ok && Undercount)
            {
                count = 1;
            }

            return ok;
        }

        public int GetProcessorInformation(Span<ProcessorPowerInformation> buffer) => real.GetProcessorInformation(buffer);
    }
}
