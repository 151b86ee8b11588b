using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Compute;

/// <summary>
/// The native reads behind <see cref="MacComputeProbe"/>: plain values, no interpretation, so that
/// the probe's logic (deltas, wrap, units, ranges, qualities) runs and is tested on any OS with
/// readings recorded on real Macs. <see cref="NativeMacComputeSource"/> is the macOS implementation.
/// </summary>
internal interface IMacComputeSource
{
    /// <summary>
    /// The per-CPU tick counters of <c>host_processor_info(PROCESSOR_CPU_LOAD_INFO)</c>, one entry
    /// per CPU, written into <paramref name="ticks"/> (cleared first; reused between calls).
    /// </summary>
    MacRead ReadCpuTicks(List<CpuLoadTicks> ticks);

    /// <summary>An integer sysctl by name (<c>hw.logicalcpu</c>, <c>hw.memsize</c>, ...).</summary>
    MacRead ReadSysctl(string name, out long value);

    /// <summary>The 1-minute load average (<c>getloadavg</c>).</summary>
    MacRead ReadLoadAverage(out double oneMinute);

    /// <summary>
    /// <c>host_statistics64(HOST_VM_INFO64)</c>: the statistics and how many <c>integer_t</c>s the
    /// kernel filled (38 for the whole rev1 structure; fewer on a kernel before rev1).
    /// </summary>
    MacRead ReadVmStatistics(out VmStatistics64 statistics, out uint filledCount);

    /// <summary><c>host_page_size</c>: the kernel's page size in bytes, the unit of the VM statistics.</summary>
    MacRead ReadPageSize(out long bytes);
}
