using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.Windows.Thermal;
using CostModel.Testing.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Windows.Tests.Thermal;

/// <summary>
/// The thermal probe's arithmetic and buffer handling on faked <c>PROCESSOR_POWER_INFORMATION</c>
/// entries (clocks in MHz): runs on every OS.
/// </summary>
public sealed class WindowsThermalProbeTests
{
    private const int StatusBufferTooSmall = unchecked((int)0xC0000023);
    private const int StatusAccessDenied = unchecked((int)0xC0000022);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingProbeFailureReporter _failures = new();

    [Fact]
    public void No_clock_limit_reads_a_throttle_ratio_of_0_Estimated()
    {
        var api = new FakeProcessorApi(Processors(4, maxMhz: 3000, limitMhz: 3000));

        ThermalFactors thermal = Collect(api);

        Assert.Equal(0, thermal.ThrottleRatio.Value);
        Assert.Equal(SignalQuality.Estimated, thermal.ThrottleRatio.Quality);
        Assert.Contains("MhzLimit", thermal.ThrottleRatio.Source, StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow(), thermal.ThrottleRatio.ObservedAt);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void MhzLimit_below_MaxMhz_on_one_processor_of_four_loses_an_eighth_of_the_clock()
    {
        ProcessorPowerInformation[] cpus = Processors(4, maxMhz: 3000, limitMhz: 3000);
        cpus[2].MhzLimit = 1500;

        ThermalFactors thermal = Collect(new FakeProcessorApi(cpus));

        Assert.Equal(1 - (10_500.0 / 12_000), thermal.ThrottleRatio.Value, 12);
        Assert.Equal(SignalQuality.Estimated, thermal.ThrottleRatio.Quality);
    }

    [Fact]
    public void Processors_with_different_rated_clocks_weigh_by_their_clock()
    {
        ProcessorPowerInformation[] cpus = [Cpu(0, 4000, 2000), Cpu(1, 2000, 2000)];

        ThermalFactors thermal = Collect(new FakeProcessorApi(cpus));

        // (4000 - 2000) MHz lost of 6000: a third, not the mean of 0.5 and 0.
        Assert.Equal(1 - (4000.0 / 6000), thermal.ThrottleRatio.Value, 12);
    }

    [Fact]
    public void A_limit_above_the_rated_clock_is_no_loss()
    {
        ThermalFactors thermal = Collect(new FakeProcessorApi([Cpu(0, 2000, 2600), Cpu(1, 2000, 2000)]));

        Assert.Equal(0, thermal.ThrottleRatio.Value);
    }

    [Fact]
    public void A_processor_with_MaxMhz_0_makes_the_ratio_Unknown_with_its_number_and_is_reported()
    {
        ProcessorPowerInformation[] cpus = Processors(4, maxMhz: 3000, limitMhz: 3000);
        cpus[3].MaxMhz = 0;

        ThermalFactors thermal = Collect(new FakeProcessorApi(cpus));

        Assert.Equal(SignalQuality.Unknown, thermal.ThrottleRatio.Quality);
        Assert.Contains("implausible processor clock '0'", thermal.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Contains("processor 3 MaxMhz", thermal.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Equal(["out-of-range"], _failures.Kinds);
    }

    [Fact]
    public void A_MhzLimit_of_0_or_beyond_20_GHz_is_Unknown()
    {
        ThermalFactors zero = Collect(new FakeProcessorApi([Cpu(0, 3000, 0)]));
        ThermalFactors huge = Collect(new FakeProcessorApi([Cpu(0, 3000, 4_000_000)]));

        Assert.Contains("processor 0 MhzLimit", zero.ThrottleRatio.Reason, StringComparison.Ordinal);
        Assert.Contains("'4000000'", huge.ThrottleRatio.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void STATUS_BUFFER_TOO_SMALL_grows_the_buffer_to_the_new_count_and_answers_in_the_same_pass()
    {
        // Started with 2 processors; 8 are active now (added while running).
        var api = new FakeProcessorApi(Processors(8, maxMhz: 2000, limitMhz: 1000)) { ReportedCount = 2 };
        var probe = new WindowsThermalProbe(api, _failures);
        Assert.Equal(2, probe.BufferLength);
        api.ReportedCount = 8;

        ThermalFactors thermal = Collect(probe);

        Assert.Equal(0.5, thermal.ThrottleRatio.Value, 12);
        Assert.Equal(8, probe.BufferLength);
        Assert.Equal([2, 8], api.BufferLengths);
        Assert.Empty(_failures.Reports);

        // The next pass reuses the grown buffer: one call, no growth.
        Collect(probe);
        Assert.Equal([2, 8, 8], api.BufferLengths);
    }

    [Fact]
    public void STATUS_BUFFER_TOO_SMALL_without_a_larger_count_doubles_the_buffer()
    {
        var api = new FakeProcessorApi(Processors(3, maxMhz: 2000, limitMhz: 2000)) { ReportedCount = 1 };
        var probe = new WindowsThermalProbe(api, _failures);

        ThermalFactors thermal = Collect(probe);

        // 1 -> 2 -> 4: the last entry is not written and is ignored.
        Assert.Equal([1, 2, 4], api.BufferLengths);
        Assert.Equal(0, thermal.ThrottleRatio.Value);
    }

    [Fact]
    public void Growth_is_bounded_per_pass_and_then_the_ratio_is_Unknown_with_the_NTSTATUS()
    {
        var api = new FakeProcessorApi([]) { ReportedCount = 1, FixedStatus = StatusBufferTooSmall };
        var probe = new WindowsThermalProbe(api, _failures);

        ThermalFactors thermal = Collect(probe);

        Assert.Equal(1 + ThermalPlausible.MaxGrowthsPerPass, api.BufferLengths.Count);
        Assert.Equal("CallNtPowerInformation(ProcessorInformation) failed: NTSTATUS 0xC0000023 (STATUS_BUFFER_TOO_SMALL)", thermal.ThrottleRatio.Reason);
        Assert.Equal(["ntstatus"], _failures.Kinds);
    }

    [Fact]
    public void The_buffer_never_grows_past_the_most_processors_Windows_supports()
    {
        var api = new FakeProcessorApi([]) { ReportedCount = 100_000, FixedStatus = StatusBufferTooSmall };
        var probe = new WindowsThermalProbe(api, _failures);
        Assert.Equal(ThermalPlausible.MaxProcessors, probe.BufferLength);

        ThermalFactors thermal = Collect(probe);

        // At the bound the status stands: one call, no growth.
        Assert.Equal([ThermalPlausible.MaxProcessors], api.BufferLengths);
        Assert.Equal(SignalQuality.Unknown, thermal.ThrottleRatio.Quality);
    }

    [Fact]
    public void A_failing_call_is_Unknown_with_the_NTSTATUS_and_reported()
    {
        var api = new FakeProcessorApi(Processors(2, 3000, 3000)) { FixedStatus = StatusAccessDenied };

        ThermalFactors thermal = Collect(api);

        Assert.Equal("CallNtPowerInformation(ProcessorInformation) failed: NTSTATUS 0xC0000022 (STATUS_ACCESS_DENIED)", thermal.ThrottleRatio.Reason);
        Assert.Equal(["ntstatus"], _failures.Kinds);
    }

    [Fact]
    public void A_failing_processor_count_is_reported_and_the_runtime_count_sizes_the_buffer()
    {
        var api = new FakeProcessorApi(Processors(Environment.ProcessorCount, 3000, 3000)) { CountError = 87 };

        var probe = new WindowsThermalProbe(api, _failures);

        Assert.Equal(Environment.ProcessorCount, probe.BufferLength);
        Assert.Equal(["win32-error"], _failures.Kinds);
        Assert.Contains("GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) failed: Win32 error 87", _failures.Reports[0].Detail, StringComparison.Ordinal);
        Assert.Equal(0, Collect(probe).ThrottleRatio.Value);
    }

    [Fact]
    public void Success_with_no_entry_written_is_Unknown()
    {
        var api = new FakeProcessorApi([]);

        ThermalFactors thermal = Collect(api);

        Assert.Equal(WindowsThermalProbe.NothingFilledReason, thermal.ThrottleRatio.Reason);
    }

    [Fact]
    public void Temperature_thermal_level_and_throttle_events_are_NotSupported_with_the_reason()
    {
        ThermalFactors thermal = Collect(new FakeProcessorApi(Processors(2, 3000, 3000)));

        Assert.Equal(SignalQuality.NotSupported, thermal.HottestCelsius.Quality);
        Assert.Contains("administrator", thermal.HottestCelsius.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, thermal.Level.Quality);
        Assert.Equal(WindowsThermalProbe.NoLevelReason, thermal.Level.Reason);
        Assert.Equal(SignalQuality.NotSupported, thermal.ThrottleEvents.Quality);
        Assert.Equal(WindowsThermalProbe.NoEventsReason, thermal.ThrottleEvents.Reason);
    }

    [Fact]
    public void A_pass_reuses_the_buffer_and_allocates_only_its_record()
    {
        var api = new FakeProcessorApi(Processors(64, 3000, 2500)) { RecordLengths = false };
        var probe = new WindowsThermalProbe(api, _failures);
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);

        const int Passes = 100;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Passes; i++)
        {
            probe.Collect(snapshot);
        }

        long perPass = (GC.GetAllocatedBytesForCurrentThread() - before) / Passes;

        // The ThermalFactors record holds four readings; the 64-entry buffer (1.5 KiB) is not allocated again.
        Assert.InRange(perPass, 1, 256);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Probe_has_its_name_and_group()
    {
        var probe = new WindowsThermalProbe(new FakeProcessorApi([]), _failures);

        Assert.Equal("windows.thermal", probe.Name);
        Assert.Equal(SignalGroup.Thermal, probe.Group);
    }

    private ThermalFactors Collect(FakeProcessorApi api) => Collect(new WindowsThermalProbe(api, _failures));

    private ThermalFactors Collect(WindowsThermalProbe probe)
    {
        var snapshot = new SnapshotBuilder(_time);
        probe.Collect(snapshot);
        return snapshot.Thermal;
    }

    private static ProcessorPowerInformation Cpu(uint number, uint maxMhz, uint limitMhz) =>
        new() { Number = number, MaxMhz = maxMhz, CurrentMhz = maxMhz, MhzLimit = limitMhz };

    private static ProcessorPowerInformation[] Processors(int count, uint maxMhz, uint limitMhz) =>
        [.. Enumerable.Range(0, count).Select(i => Cpu((uint)i, maxMhz, limitMhz))];

    /// <summary>
    /// Answers like Windows: <c>STATUS_BUFFER_TOO_SMALL</c> when the buffer holds fewer entries than
    /// there are processors, else writes one entry per processor and leaves the rest alone.
    /// </summary>
    private sealed class FakeProcessorApi(ProcessorPowerInformation[] processors) : IProcessorPowerApi
    {
        /// <summary>What <c>GetActiveProcessorCount</c> answers (the processors' count unless set).</summary>
        public int? ReportedCount { get; set; }

        public int CountError { get; set; }

        /// <summary>A status every call returns, written or not.</summary>
        public int? FixedStatus { get; set; }

        public bool RecordLengths { get; set; } = true;

        public List<int> BufferLengths { get; } = [];

        public bool TryGetActiveProcessorCount(out int count, out int error)
        {
            error = CountError;
            count = CountError == 0 ? ReportedCount ?? processors.Length : 0;
            return CountError == 0;
        }

        public int GetProcessorInformation(Span<ProcessorPowerInformation> buffer)
        {
            if (RecordLengths)
            {
                BufferLengths.Add(buffer.Length);
            }

            if (FixedStatus is { } status)
            {
                return status;
            }

            if (buffer.Length < processors.Length)
            {
                return StatusBufferTooSmall;
            }

            processors.CopyTo(buffer);
            return 0;
        }
    }
}
