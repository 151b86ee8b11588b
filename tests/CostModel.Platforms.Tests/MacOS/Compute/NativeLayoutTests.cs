using System.Runtime.InteropServices;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.Tests.MacOS.Compute;

/// <summary>
/// The structs passed to Mach calls have the layout of Apple's headers. arm64 and x86_64 are both
/// LP64 with natural alignment and the headers have no per-architecture fields here, so one layout
/// holds for both.
/// </summary>
public sealed class NativeLayoutTests
{
    [Fact]
    public void Processor_cpu_load_info_is_four_natural_t_ticks_in_16_bytes()
    {
        // <mach/processor_info.h>: natural_t cpu_ticks[CPU_STATE_MAX]; <mach/machine.h>: USER 0, SYSTEM 1, IDLE 2, NICE 3.
        // <mach/host_info.h>: host_cpu_load_info has the same single member.
        Assert.Equal(16, Marshal.SizeOf<CpuLoadTicks>());
        Assert.Equal(0, (int)Marshal.OffsetOf<CpuLoadTicks>(nameof(CpuLoadTicks.User)));
        Assert.Equal(4, (int)Marshal.OffsetOf<CpuLoadTicks>(nameof(CpuLoadTicks.System)));
        Assert.Equal(8, (int)Marshal.OffsetOf<CpuLoadTicks>(nameof(CpuLoadTicks.Idle)));
        Assert.Equal(12, (int)Marshal.OffsetOf<CpuLoadTicks>(nameof(CpuLoadTicks.Nice)));
    }

    [Theory]
    [InlineData(nameof(VmStatistics64.FreeCount), 0)]
    [InlineData(nameof(VmStatistics64.ActiveCount), 4)]
    [InlineData(nameof(VmStatistics64.InactiveCount), 8)]
    [InlineData(nameof(VmStatistics64.WireCount), 12)]
    [InlineData(nameof(VmStatistics64.ZeroFillCount), 16)]
    [InlineData(nameof(VmStatistics64.Reactivations), 24)]
    [InlineData(nameof(VmStatistics64.Pageins), 32)]
    [InlineData(nameof(VmStatistics64.Pageouts), 40)]
    [InlineData(nameof(VmStatistics64.Faults), 48)]
    [InlineData(nameof(VmStatistics64.CowFaults), 56)]
    [InlineData(nameof(VmStatistics64.Lookups), 64)]
    [InlineData(nameof(VmStatistics64.Hits), 72)]
    [InlineData(nameof(VmStatistics64.Purges), 80)]
    [InlineData(nameof(VmStatistics64.PurgeableCount), 88)]
    [InlineData(nameof(VmStatistics64.SpeculativeCount), 92)]
    [InlineData(nameof(VmStatistics64.Decompressions), 96)]
    [InlineData(nameof(VmStatistics64.Compressions), 104)]
    [InlineData(nameof(VmStatistics64.Swapins), 112)]
    [InlineData(nameof(VmStatistics64.Swapouts), 120)]
    [InlineData(nameof(VmStatistics64.CompressorPageCount), 128)]
    [InlineData(nameof(VmStatistics64.ThrottledCount), 132)]
    [InlineData(nameof(VmStatistics64.ExternalPageCount), 136)]
    [InlineData(nameof(VmStatistics64.InternalPageCount), 140)]
    [InlineData(nameof(VmStatistics64.TotalUncompressedPagesInCompressor), 144)]
    public void Vm_statistics64_fields_sit_at_the_offsets_of_mach_vm_statistics_h(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<VmStatistics64>(field));

    [Fact]
    public void Vm_statistics64_is_152_bytes_and_38_integers_like_host_vm_info64_count()
    {
        // <mach/vm_statistics.h>: struct vm_statistics64 { ... } __attribute__((aligned(8))): 152 bytes, a multiple of 8.
        // <mach/host_info.h>: HOST_VM_INFO64_COUNT = sizeof(vm_statistics64_data_t) / sizeof(integer_t).
        Assert.Equal(152, Marshal.SizeOf<VmStatistics64>());
        Assert.Equal(0, Marshal.SizeOf<VmStatistics64>() % 8);
        Assert.Equal(VmStatistics64.IntegerCount, (uint)(Marshal.SizeOf<VmStatistics64>() / sizeof(int)));
        Assert.Equal(VmStatistics64.IntegerCountWithExternalPages, (uint)(((int)Marshal.OffsetOf<VmStatistics64>(nameof(VmStatistics64.ExternalPageCount)) + sizeof(uint)) / sizeof(int)));
    }
}
