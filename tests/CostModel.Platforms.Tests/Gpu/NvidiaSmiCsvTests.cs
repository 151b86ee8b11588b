using CostModel.Factors;
using CostModel.Platforms.Gpu;

namespace CostModel.Platforms.Tests.Gpu;

public sealed class NvidiaSmiCsvTests
{
    private static readonly DateTimeOffset At = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    // Captured in the shape of: nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,
    //   temperature.gpu,power.draw,clocks_event_reasons.active,mig.mode.current --format=csv,noheader,nounits
    // on an HGX H100 (driver 550): one idle GPU, one busy at its power cap, the rest idle.
    internal const string HgxH100 =
        "0, NVIDIA H100 80GB HBM3, 0, 0, 81559, 30, 69.52, 0x0000000000000001, Disabled\n" +
        "1, NVIDIA H100 80GB HBM3, 100, 79270, 81559, 62, 687.33, 0x0000000000000004, Disabled\n" +
        "2, NVIDIA H100 80GB HBM3, 0, 0, 81559, 29, 68.91, 0x0000000000000001, Disabled\n" +
        "3, NVIDIA H100 80GB HBM3, 0, 0, 81559, 31, 70.14, 0x0000000000000001, Disabled\n";

    // A DGX A100 with GPU 0 in MIG mode: whole-GPU utilisation is [N/A].
    internal const string A100WithMig =
        "0, NVIDIA A100-SXM4-40GB, [N/A], 13, 40960, 29, 54.15, 0x0000000000000000, Enabled\n" +
        "1, NVIDIA A100-SXM4-40GB, 0, 0, 40960, 31, 56.02, 0x0000000000000001, Disabled\n";

    // An older driver (R470) without mig.mode.current, on a GeForce without a power sensor.
    internal const string GeForceOldDriver =
        "0, NVIDIA GeForce GTX 1050 Ti, 3, 420, 4096, 38, [Not Supported], 0x0000000000000000\n";

    [Fact]
    public void Parses_an_HGX_H100_answer_into_model_units()
    {
        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(HgxH100, withMigMode: true, At);

        Assert.Empty(result.Problems);
        Assert.Equal(4, result.Devices.Length);
        GpuDevice busy = result.Devices[1];
        Assert.Equal(1, busy.Index);
        Assert.Equal(GpuVendor.Nvidia, busy.Vendor);
        Assert.Equal("NVIDIA H100 80GB HBM3", busy.Name);
        Assert.Equal(1.0, busy.Utilization.Value);
        Assert.Equal(79_270L * 1024 * 1024, busy.MemoryUsedBytes.Value);
        Assert.Equal(85_520_809_984L, busy.MemoryTotalBytes.Value); // 81559 MiB
        Assert.Equal(62.0, busy.TemperatureCelsius.Value);
        Assert.Equal(687.33, busy.PowerWatts.Value, 10);
        Assert.True(busy.Throttled.Value); // SW power cap
        Assert.False(result.Devices[0].Throttled.Value); // idle only
        Assert.Equal(0.0, result.Devices[0].Utilization.Value);
        Assert.All(result.Devices, d => Assert.Equal(At, d.PowerWatts.ObservedAt));
        Assert.Equal("nvidia-smi", busy.PowerWatts.Source);
    }

    [Fact]
    public void MIG_GPU_has_NotSupported_utilisation_with_MIG_as_the_reason()
    {
        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(A100WithMig, withMigMode: true, At);

        Assert.Empty(result.Problems);
        GpuDevice mig = result.Devices[0];
        Assert.Equal(SignalQuality.NotSupported, mig.Utilization.Quality);
        Assert.StartsWith("MIG mode", mig.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(13L * 1024 * 1024, mig.MemoryUsedBytes.Value);
        Assert.Equal(54.15, mig.PowerWatts.Value, 10);
        Assert.Equal(SignalQuality.Measured, result.Devices[1].Utilization.Quality);
    }

    [Fact]
    public void Not_supported_fields_from_an_old_driver_are_NotSupported_readings()
    {
        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(GeForceOldDriver, withMigMode: false, At);

        Assert.Empty(result.Problems);
        GpuDevice gpu = Assert.Single(result.Devices);
        Assert.Equal(SignalQuality.NotSupported, gpu.PowerWatts.Quality);
        Assert.Contains("power.draw", gpu.PowerWatts.Reason, StringComparison.Ordinal);
        Assert.Equal(0.03, gpu.Utilization.Value, 10);
        Assert.Equal(4096L * 1024 * 1024, gpu.MemoryTotalBytes.Value);
    }

    [Fact]
    public void NA_without_MIG_is_NotSupported_without_blaming_MIG()
    {
        const string text = "0, NVIDIA T4, [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A]\n";

        GpuDevice gpu = Assert.Single(NvidiaSmiCsv.Parse(text, withMigMode: true, At).Devices);

        Assert.Equal(SignalQuality.NotSupported, gpu.Utilization.Quality);
        Assert.DoesNotContain("MIG", gpu.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.NotSupported, gpu.MemoryUsedBytes.Quality);
        Assert.Equal(SignalQuality.NotSupported, gpu.TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.NotSupported, gpu.Throttled.Quality);
    }

    [Fact]
    public void A_lost_GPU_line_is_a_problem_and_the_other_GPUs_still_parse()
    {
        const string text =
            "Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error\n" +
            "1, Tesla V100-SXM2-16GB, 12, 2048, 16160, 45, 61.23, 0x0000000000000000, Disabled\n";

        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(text, withMigMode: true, At);

        GpuDevice gpu = Assert.Single(result.Devices);
        Assert.Equal(1, gpu.Index);
        Assert.Contains("Unable to determine the device handle", Assert.Single(result.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Bracketed_errors_and_garbage_fields_are_Unknown_and_reported()
    {
        const string text = "0, NVIDIA L4, [Unknown Error], 120, 23034, hot, 27.5, 0xZZ, Disabled\n";

        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(text, withMigMode: true, At);

        GpuDevice gpu = Assert.Single(result.Devices);
        Assert.Equal(SignalQuality.Unknown, gpu.Utilization.Quality);
        Assert.Contains("[Unknown Error]", gpu.Utilization.Reason, StringComparison.Ordinal);
        Assert.Equal(SignalQuality.Unknown, gpu.TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.Unknown, gpu.Throttled.Quality);
        Assert.Equal(27.5, gpu.PowerWatts.Value);
        Assert.Equal(3, result.Problems.Length);
    }

    [Fact]
    public void Out_of_range_numbers_are_Unknown()
    {
        const string text = "0, NVIDIA L4, 140, 120, 23034, 400, 99999, 0x0, Disabled\n";

        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(text, withMigMode: true, At);

        GpuDevice gpu = Assert.Single(result.Devices);
        Assert.Equal(SignalQuality.Unknown, gpu.Utilization.Quality);
        Assert.Equal(SignalQuality.Unknown, gpu.TemperatureCelsius.Quality);
        Assert.Equal(SignalQuality.Unknown, gpu.PowerWatts.Quality);
        Assert.Equal(3, result.Problems.Length);
    }

    [Fact]
    public void A_name_with_a_comma_is_put_back_together()
    {
        const string text = "0, NVIDIA RTX 6000 Ada, Generation, 5, 1024, 49140, 40, 35.2, 0x1, Disabled\n";

        GpuDevice gpu = Assert.Single(NvidiaSmiCsv.Parse(text, withMigMode: true, At).Devices);

        Assert.Equal("NVIDIA RTX 6000 Ada, Generation", gpu.Name);
        Assert.Equal(0.05, gpu.Utilization.Value, 10);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("No devices were found\n")]
    public void Empty_or_wordy_output_gives_no_devices(string text)
    {
        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(text, withMigMode: true, At);

        Assert.Empty(result.Devices);
        Assert.Equal(text.Trim().Length == 0 ? 0 : 1, result.Problems.Length);
    }

    [Fact]
    public void Query_variants_ask_for_the_documented_fields_without_units()
    {
        NvidiaSmiQuery first = NvidiaSmiQuery.Variants[0];

        Assert.Equal(
            ["--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,clocks_event_reasons.active,mig.mode.current",
             "--format=csv,noheader,nounits"],
            first.Arguments);
        Assert.Contains("clocks_throttle_reasons.active", NvidiaSmiQuery.Variants[1].Fields, StringComparison.Ordinal);
        Assert.False(NvidiaSmiQuery.Variants[2].WithMigMode);
    }

    [Fact]
    public void VRAM_used_above_total_or_beyond_any_GPU_is_Unknown_with_the_raw_text()
    {
        const string Answer =
            "0, NVIDIA H100 80GB HBM3, 0, 90000, 81559, 30, 69.52, 0x0000000000000001, Disabled\n" +
            "1, NVIDIA H100 80GB HBM3, 0, 8796093022207, 81559, 30, 69.52, 0x0000000000000001, Disabled\n";

        NvidiaSmiParseResult result = NvidiaSmiCsv.Parse(Answer, withMigMode: true, At);

        GpuDevice aboveTotal = result.Devices[0];
        Assert.Equal(SignalQuality.Unknown, aboveTotal.MemoryUsedBytes.Quality);
        Assert.Equal(aboveTotal.MemoryUsedBytes.Reason, aboveTotal.MemoryTotalBytes.Reason);
        Assert.StartsWith("implausible VRAM used '90000 MiB' in nvidia-smi memory.used for GPU 0: above the VRAM total '81559 MiB'", aboveTotal.MemoryUsedBytes.Reason, StringComparison.Ordinal);

        GpuDevice absurd = result.Devices[1];
        Assert.Equal(SignalQuality.Unknown, absurd.MemoryUsedBytes.Quality);
        Assert.StartsWith("implausible GPU memory '8796093022207' in nvidia-smi memory.used for GPU 1 (MiB)", absurd.MemoryUsedBytes.Reason, StringComparison.Ordinal);
        Assert.Equal(85_520_809_984L, absurd.MemoryTotalBytes.Value);
        Assert.Equal(2, result.Problems.Length);
    }
}
