using CostModel.Factors;
using CostModel.Platforms.Windows.Gpu;
using CostModel.Testing.Fakes;

namespace CostModel.Platforms.Windows.Tests.Gpu;

public class GpuPdhSamplerTests
{
    private const uint A = 0xC1F2;
    private const uint B = 0xD3A1;
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);
    private readonly FakePdh _pdh = new();
    private readonly RecordingProbeFailureReporter _failures = new();

    public GpuPdhSamplerTests()
    {
        _pdh.Memory = [new(FakePdh.Adapter(A), 3_221_225_472), new(FakePdh.Adapter(B), 0)];
    }

    [Fact]
    public void The_first_sample_has_memory_but_utilisation_is_unknown_until_the_second()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines = [new(FakePdh.Engine(10, A, 0, "3D"), 50)];

        GpuPdhSample first = sampler.Sample(Now);

        Assert.Equal(SignalQuality.Unknown, first.Engine.Quality);
        Assert.StartsWith("first sample", first.Engine.Reason, StringComparison.Ordinal);
        Assert.True(first.Memory.IsUsable);
        Assert.Equal(3_221_225_472, first.Find(GpuInstanceName.Luid(0, A))!.DedicatedBytes);

        GpuPdhSample second = sampler.Sample(Now.AddSeconds(1));
        Assert.True(second.Engine.IsUsable);
        Assert.Equal(50, second.Find(GpuInstanceName.Luid(0, A))!.UtilizationPercent);
        Assert.Equal(1, _pdh.OpenCalls);
        Assert.Equal(2, _pdh.CollectCalls);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void Processes_are_summed_per_engine_and_the_adapter_takes_its_busiest_engine()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines =
        [
            new(FakePdh.Engine(10, A, 0, "3D"), 30),
            new(FakePdh.Engine(11, A, 0, "3D"), 25),          // same engine, another process: 55
            new(FakePdh.Engine(10, A, 1, "Copy"), 10),
            new(FakePdh.Engine(12, A, 2, "VideoDecode"), 40),
            new(FakePdh.Engine(12, A, 4, "Copy"), 35),
            new(FakePdh.Engine(13, A, 5, "Copy"), 35),        // two Copy engines at 35: not 70 (engines, not types, are summed)
            new(FakePdh.Engine(20, B, 3, "Compute_0"), 12.5),
            new(FakePdh.Engine(21, B, 3, "Compute_0"), 20),   // 32.5
            new(FakePdh.Engine(21, B, 0, "3D"), 0),
        ];

        _ = sampler.Sample(Now);
        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(55, sample.Find(GpuInstanceName.Luid(0, A))!.UtilizationPercent);
        Assert.Equal(32.5, sample.Find(GpuInstanceName.Luid(0, B))!.UtilizationPercent);
        Assert.Equal(Now.AddSeconds(1), sample.CollectedAt);
    }

    [Fact]
    public void Sampling_skew_over_100_percent_on_one_engine_is_capped_at_100()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines =
        [
            new(FakePdh.Engine(10, A, 3, "Compute_0"), 80),
            new(FakePdh.Engine(11, A, 3, "Compute_0"), 30),
            new(FakePdh.Engine(12, B, 0, "3D"), 102.5), // one process, within the skew tolerance
        ];

        _ = sampler.Sample(Now);
        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(100, sample.Find(GpuInstanceName.Luid(0, A))!.UtilizationPercent);
        Assert.Equal(100, sample.Find(GpuInstanceName.Luid(0, B))!.UtilizationPercent);
        Assert.Empty(_failures.Reports);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.5)]
    [InlineData(105.5)]
    [InlineData(1e12)]
    public void An_implausible_instance_value_makes_only_its_adapter_unknown(double value)
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines =
        [
            new(FakePdh.Engine(10, A, 0, "3D"), 20),
            new(FakePdh.Engine(11, A, 0, "3D"), value),
            new(FakePdh.Engine(12, B, 0, "3D"), 45),
        ];

        _ = sampler.Sample(Now);
        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        PdhAdapterSample a = sample.Find(GpuInstanceName.Luid(0, A))!;
        Assert.NotNull(a.UtilizationProblem);
        Assert.Contains("implausible GPU engine utilisation", a.UtilizationProblem, StringComparison.Ordinal);
        Assert.Contains("pid_11_", a.UtilizationProblem, StringComparison.Ordinal);
        Assert.Equal(45, sample.Find(GpuInstanceName.Luid(0, B))!.UtilizationPercent);
        Assert.Equal("out-of-range", Assert.Single(_failures.Reports).Kind);
    }

    [Theory]
    [InlineData(PdhStatus.InvalidDataItem)]
    [InlineData(PdhStatus.NoInstance)]
    [InlineData(PdhStatus.CalcNegativeDenominator)]
    public void Instances_with_an_invalid_item_status_are_skipped_not_counted(uint status)
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines =
        [
            new(FakePdh.Engine(10, A, 0, "3D"), 20),
            new(FakePdh.Engine(11, A, 0, "3D"), 999, status), // a process that just started or exited
        ];

        _ = sampler.Sample(Now);
        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(20, sample.Find(GpuInstanceName.Luid(0, A))!.UtilizationPercent);
        Assert.Empty(_failures.Reports);
    }

    [Fact]
    public void An_engine_name_that_cannot_be_attributed_makes_every_adapters_utilisation_unknown()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines =
        [
            new(FakePdh.Engine(10, A, 0, "3D"), 20),
            new("pid_11_luid_0xZZ_garbage" + new string('x', 200), 50),
        ];

        _ = sampler.Sample(Now);
        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(SignalQuality.Unknown, sample.Engine.Quality);
        Assert.Contains("cannot tell which adapter", sample.Engine.Reason, StringComparison.Ordinal);
        Assert.Contains("...", sample.Engine.Reason, StringComparison.Ordinal); // the name is cut in the reason
        Assert.True(sample.Memory.IsUsable);
        Assert.Equal("garbage", Assert.Single(_failures.Reports).Kind);
    }

    [Fact]
    public void An_unattributable_name_is_shown_as_valid_text_never_half_a_surrogate_pair()
    {
        // A lone low surrogate early, and an emoji's pair straddling the 80th character.
        string name = "pid_11_\uDC00_" + new string('x', 70) + "\U0001F600" + new string('y', 20);
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines = [new(FakePdh.Engine(10, A, 0, "3D"), 20), new(name, 50)];

        _ = sampler.Sample(Now);
        string reason = sampler.Sample(Now.AddSeconds(1)).Engine.Reason!;

        string shown = reason[(reason.IndexOf('\'', StringComparison.Ordinal) + 1)..reason.IndexOf("' is not", StringComparison.Ordinal)];
        Assert.Equal("pid_11_\uFFFD_" + new string('x', 70) + "...", shown);
        Assert.True(reason.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0, reason);
    }

    [Fact]
    public void Dedicated_usage_is_summed_over_the_physical_adapters_of_a_luid()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Memory = [new(FakePdh.Adapter(A, phys: 0), 1_000_000), new(FakePdh.Adapter(A, phys: 1), 2_000_000)];

        GpuPdhSample sample = sampler.Sample(Now);

        Assert.Equal(3_000_000, Assert.Single(sample.Adapters).DedicatedBytes);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-1)]
    [InlineData(9.3e18)]
    public void Implausible_dedicated_usage_makes_that_adapters_memory_unknown(double value)
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Memory = [new(FakePdh.Adapter(A), value), new(FakePdh.Adapter(B), 4096)];

        GpuPdhSample sample = sampler.Sample(Now);

        PdhAdapterSample a = sample.Find(GpuInstanceName.Luid(0, A))!;
        Assert.Null(a.DedicatedBytes);
        Assert.Contains("implausible GPU memory", a.MemoryProblem, StringComparison.Ordinal);
        Assert.Equal(4096, sample.Find(GpuInstanceName.Luid(0, B))!.DedicatedBytes);
    }

    [Fact]
    public void The_buffer_is_sized_by_PDH_MORE_DATA_once_and_reused_afterwards()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Engines = [new(FakePdh.Engine(10, A, 0, "3D"), 20)];
        _ = sampler.Sample(Now);
        int moreDataAfterFirst = _pdh.MoreDataAnswers; // memory sized on the first collection

        _ = sampler.Sample(Now.AddSeconds(1));         // engine sized on the second
        int size = sampler.EngineBufferBytes;
        _ = sampler.Sample(Now.AddSeconds(2));
        _ = sampler.Sample(Now.AddSeconds(3));

        Assert.Equal(1, moreDataAfterFirst);
        Assert.Equal(2, _pdh.MoreDataAnswers);
        Assert.Equal(size, sampler.EngineBufferBytes);
        Assert.Equal(0u, _pdh.BufferSizesSeen[0]); // the first call asks for the size
    }

    [Fact]
    public void The_buffer_grows_when_instances_appear_between_the_size_query_and_the_read()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _ = sampler.Sample(Now);
        _pdh.Engines = [new(FakePdh.Engine(10, A, 0, "3D"), 20)];
        _pdh.AfterMoreData = () =>
        {
            // A burst of new processes right after PDH gave the size: beyond the quarter of headroom.
            if (_pdh.Engines.Count == 1)
            {
                _pdh.Engines.AddRange(Enumerable.Range(100, 40).Select(pid => new FakeInstance(FakePdh.Engine(pid, A, 1, "Copy"), 1)));
            }
        };

        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        Assert.True(sample.Engine.IsUsable, sample.Engine.Reason);
        Assert.Equal(40, sample.Find(GpuInstanceName.Luid(0, A))!.UtilizationPercent);
        Assert.True(sampler.EngineBufferBytes >= (41 * 24) + (41 * 2 * 40));
    }

    [Fact]
    public void Instances_that_outgrow_every_buffer_give_up_after_the_bounded_attempts()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _ = sampler.Sample(Now);
        _pdh.Engines = [new(FakePdh.Engine(10, A, 0, "3D"), 20)];
        int pid = 100;
        _pdh.AfterMoreData = () => _pdh.Engines.AddRange(Enumerable.Range(pid, 200).Select(p => new FakeInstance(FakePdh.Engine(pid++, A, 1, "Copy"), 1)));

        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(SignalQuality.Unknown, sample.Engine.Quality);
        Assert.Contains("kept answering PDH_MORE_DATA after 3 attempts", sample.Engine.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_PDH_that_asks_for_more_than_the_bound_is_refused_not_obeyed()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.LieRequiredSize = PdhCounterArray.MaxBufferBytes + 1u;

        GpuPdhSample sample = sampler.Sample(Now);

        Assert.Equal(SignalQuality.Unknown, sample.Memory.Quality);
        Assert.Contains("more than the 16777216 bytes allowed", sample.Memory.Reason, StringComparison.Ordinal);
        Assert.Equal("out-of-range", Assert.Single(_failures.Reports).Kind);
    }

    [Fact]
    public void A_PDH_that_answers_more_data_without_asking_for_more_is_refused()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.LieRequiredSize = 0;

        GpuPdhSample sample = sampler.Sample(Now);

        Assert.Contains("asked for 0 bytes", sample.Memory.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PdhCounterArray.MaxItems + 1, "more than the 65536 allowed")]
    [InlineData(50, "more than its")]
    public void An_item_count_beyond_the_bound_or_the_buffer_is_refused(int count, string expected)
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.LieItemCount = (uint)count;

        GpuPdhSample sample = sampler.Sample(Now);

        Assert.Equal(SignalQuality.Unknown, sample.Memory.Quality);
        Assert.Contains(expected, sample.Memory.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_pointer_outside_the_buffer_is_not_followed()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.NamePointerOverride = 0x10; // not in the buffer: reading it would crash

        GpuPdhSample sample = sampler.Sample(Now);

        Assert.Equal(SignalQuality.Unknown, sample.Memory.Quality);
        Assert.Contains("instance name ''", sample.Memory.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PdhStatus.NoObject, "PDH_CSTATUS_NO_OBJECT")]
    [InlineData(PdhStatus.NoCounter, "PDH_CSTATUS_NO_COUNTER")]
    [InlineData(PdhStatus.LibraryMissing, "pdh.dll")]
    public void A_counter_set_this_Windows_lacks_is_not_supported_with_the_status(uint status, string expected)
    {
        _pdh.AddStatus[GpuPdhSampler.EngineCounterPath] = status;
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");

        GpuPdhSample sample = sampler.Sample(Now);
        GpuPdhSample second = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(SignalQuality.NotSupported, second.Engine.Quality);
        Assert.Contains(expected, second.Engine.Reason, StringComparison.Ordinal);
        Assert.Contains(GpuPdhSampler.EngineCounterPath, second.Engine.Reason, StringComparison.Ordinal);
        Assert.True(sample.Memory.IsUsable); // the other counter still works
        Assert.False(sampler.NeedsReopen);
        Assert.Empty(_failures.Reports); // a lasting property, not a failure
    }

    [Fact]
    public void A_query_that_cannot_be_opened_is_unknown_and_reported_and_reopened_on_request()
    {
        _pdh.OpenStatus = PdhStatus.MemoryAllocationFailure;
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");

        GpuPdhSample sample = sampler.Sample(Now);
        _ = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(SignalQuality.Unknown, sample.Engine.Quality);
        Assert.Contains("PdhOpenQueryW failed: PDH_MEMORY_ALLOCATION_FAILURE", sample.Engine.Reason, StringComparison.Ordinal);
        Assert.Equal(1, _pdh.OpenCalls); // not retried on every sample
        Assert.True(sampler.NeedsReopen);

        _pdh.OpenStatus = PdhStatus.Success;
        sampler.TryOpen();
        Assert.True(sampler.Sample(Now.AddSeconds(2)).Memory.IsUsable);
    }

    [Theory]
    [InlineData(PdhStatus.NoData)]
    [InlineData(PdhStatus.InvalidHandle)]
    public void A_failed_collection_makes_both_counters_unknown_with_the_status(uint status)
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.CollectStatuses.Enqueue(status);

        GpuPdhSample sample = sampler.Sample(Now);

        Assert.Equal(SignalQuality.Unknown, sample.Engine.Quality);
        Assert.Equal(SignalQuality.Unknown, sample.Memory.Quality);
        Assert.Contains(PdhStatus.Describe(status), sample.Memory.Reason, StringComparison.Ordinal);
        Assert.Equal("io", Assert.Single(_failures.Reports).Kind);
        Assert.Equal(0, sampler.Collections);
    }

    [Theory]
    [InlineData(PdhStatus.InvalidData)]
    [InlineData(PdhStatus.InvalidDataItem)]
    [InlineData(PdhStatus.NoData)]
    public void An_engine_array_error_is_unknown_with_the_status_and_memory_still_reads(uint status)
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.EngineArrayStatus = status;

        _ = sampler.Sample(Now);
        GpuPdhSample sample = sampler.Sample(Now.AddSeconds(1));

        Assert.Equal(SignalQuality.Unknown, sample.Engine.Quality);
        Assert.Contains($"0x{status:X8}", sample.Engine.Reason, StringComparison.Ordinal);
        Assert.True(sample.Memory.IsUsable);
    }

    [Fact]
    public void More_adapters_than_the_bound_are_refused()
    {
        using var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _pdh.Memory = [.. Enumerable.Range(1, GpuPdhSampler.MaxAdapters + 1).Select(i => new FakeInstance(FakePdh.Adapter((uint)i), 0))];

        GpuPdhSample sample = sampler.Sample(Now);

        Assert.Equal(SignalQuality.Unknown, sample.Memory.Quality);
        Assert.Contains("65 adapters", sample.Memory.Reason, StringComparison.Ordinal);
        Assert.Empty(sample.Adapters);
    }

    [Fact]
    public void Dispose_closes_the_query_once()
    {
        var sampler = new GpuPdhSampler(_pdh, _failures, "windows.gpu");
        _ = sampler.Sample(Now);

        sampler.Dispose();
        sampler.Dispose();

        Assert.Equal(1, _pdh.CloseCalls);
    }
}
