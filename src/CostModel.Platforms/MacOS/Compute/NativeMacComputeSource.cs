using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Compute;

/// <summary>
/// <see cref="IMacComputeSource"/> on macOS: Mach host calls and sysctls through libSystem. Holds
/// the host port (one send right, taken once, released on <see cref="Dispose"/>) and the task port
/// <c>vm_deallocate</c> frees the per-CPU array in. Not thread-safe: the collector calls probes one
/// at a time.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe class NativeMacComputeSource : IMacComputeSource, IDisposable
{
    /// <summary>
    /// CPUs accepted from <c>host_processor_info</c>: 4096, far above every Mac (the most logical
    /// CPUs, 56, are the 2019 Mac Pro's 28-core Xeon W with Hyper-Threading; an M3 Ultra has 32).
    /// A larger count is a broken reply, not a machine, and would size the copy.
    /// </summary>
    internal const uint MaxCpus = 4096;

    private readonly uint _host;
    private readonly uint _task;
    private bool _disposed;

    public NativeMacComputeSource()
    {
        _task = Mach.TaskSelf();
        _host = Mach.mach_host_self();
    }

    public MacRead ReadCpuTicks(List<CpuLoadTicks> ticks)
    {
        ArgumentNullException.ThrowIfNull(ticks);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ticks.Clear();
        uint count = 0;
        int* info = null;
        uint infoCount = 0;
        int kr = Mach.host_processor_info(_host, Mach.ProcessorCpuLoadInfoFlavor, &count, &info, &infoCount);
        if (kr != Mach.KernSuccess)
        {
            return MacRead.Failed("io", Format($"host_processor_info(PROCESSOR_CPU_LOAD_INFO) failed: kern_return_t {kr}"));
        }

        try
        {
            if (count == 0 || count > MaxCpus || infoCount != count * Mach.ProcessorCpuLoadInfoCount)
            {
                return MacRead.Failed("garbage", Format($"host_processor_info(PROCESSOR_CPU_LOAD_INFO): {count} CPUs in {infoCount} integers (expected 1 to {MaxCpus} CPUs of {Mach.ProcessorCpuLoadInfoCount})"));
            }

            var cpus = new ReadOnlySpan<CpuLoadTicks>(info, (int)count);
            foreach (CpuLoadTicks cpu in cpus)
            {
                ticks.Add(cpu);
            }

            return MacRead.Ok;
        }
        finally
        {
            // The array is out-of-line memory the reply mapped into this task: free it or leak a VM region per pass.
            _ = Mach.vm_deallocate(_task, (nuint)info, (nuint)infoCount * sizeof(int));
        }
    }

    public MacRead ReadSysctl(string name, out long value) => Sysctl.ReadInteger(name, out value);

    public MacRead ReadLoadAverage(out double oneMinute) => Sysctl.ReadLoadAverage(out oneMinute);

    public MacRead ReadVmStatistics(out VmStatistics64 statistics, out uint filledCount)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        VmStatistics64 stats = default;
        uint count = Mach.HostVmInfo64Count;
        int kr = Mach.host_statistics64(_host, Mach.HostVmInfo64, (int*)&stats, &count);
        statistics = stats;
        filledCount = count;
        return kr == Mach.KernSuccess
            ? MacRead.Ok
            : MacRead.Failed("io", Format($"host_statistics64(HOST_VM_INFO64) failed: kern_return_t {kr}"));
    }

    public MacRead ReadPageSize(out long bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        nuint size = 0;
        int kr = Mach.host_page_size(_host, &size);
        bytes = (ulong)size > long.MaxValue ? long.MaxValue : (long)size;
        return kr == Mach.KernSuccess
            ? MacRead.Ok
            : MacRead.Failed("io", Format($"host_page_size failed: kern_return_t {kr}"));
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _ = Mach.mach_port_deallocate(_task, _host);
        }
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
