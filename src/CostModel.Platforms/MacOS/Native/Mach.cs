using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.MacOS.Native;

/// <summary>
/// The Mach host calls the compute probe needs (<c>&lt;mach/mach_host.h&gt;</c>,
/// <c>&lt;mach/host_info.h&gt;</c>, <c>&lt;mach/processor_info.h&gt;</c>,
/// <c>&lt;mach/vm_map.h&gt;</c>), exported by libSystem. <c>kern_return_t</c>, <c>integer_t</c>
/// and the flavors are <see cref="int"/>; <c>natural_t</c>, <c>mach_port_t</c> (a port name)
/// and <c>mach_msg_type_number_t</c> are <see cref="uint"/>; <c>vm_address_t</c> and
/// <c>vm_size_t</c> are pointer-sized (<see cref="nuint"/>) on arm64 and x86_64.
/// </summary>
[SupportedOSPlatform("macos")]
internal static unsafe partial class Mach
{
    /// <summary>libSystem: the Mach traps and MIG stubs live in libsystem_kernel, re-exported by it.</summary>
    internal const string Library = "/usr/lib/libSystem.B.dylib";

    /// <summary><c>KERN_SUCCESS</c> (<c>&lt;mach/kern_return.h&gt;</c>).</summary>
    internal const int KernSuccess = 0;

    /// <summary><c>HOST_VM_INFO64</c> (<c>&lt;mach/host_info.h&gt;</c>): a <c>vm_statistics64</c>.</summary>
    internal const int HostVmInfo64 = 4;

    /// <summary><c>PROCESSOR_CPU_LOAD_INFO</c> (<c>&lt;mach/processor_info.h&gt;</c>): one <c>processor_cpu_load_info</c> per CPU.</summary>
    internal const int ProcessorCpuLoadInfoFlavor = 2;

    /// <summary>
    /// <c>HOST_VM_INFO64_COUNT</c>: <c>sizeof(vm_statistics64) / sizeof(integer_t)</c> = 152 / 4.
    /// The kernel fills at most this many <c>integer_t</c>s and writes back how many it filled.
    /// </summary>
    internal const uint HostVmInfo64Count = VmStatistics64.IntegerCount;

    /// <summary>
    /// <c>PROCESSOR_CPU_LOAD_INFO_COUNT</c>: <c>sizeof(processor_cpu_load_info) / sizeof(natural_t)</c>
    /// = 4, the <c>integer_t</c>s per CPU in the array <see cref="host_processor_info"/> returns.
    /// </summary>
    internal const uint ProcessorCpuLoadInfoCount = 4;

    /// <summary>The host's name port (a send right: the caller owns one reference; get it once and keep it).</summary>
    [LibraryImport(Library)]
    internal static partial uint mach_host_self();

    /// <summary>Per-CPU information; the array is allocated in the caller's address space and must be freed with <see cref="vm_deallocate"/>.</summary>
    [LibraryImport(Library)]
    internal static partial int host_processor_info(uint host, int flavor, uint* processorCount, int** info, uint* infoCount);

    /// <summary>Host statistics with 64-bit counters; <paramref name="count"/> is in <c>integer_t</c>s, in and out.</summary>
    [LibraryImport(Library)]
    internal static partial int host_statistics64(uint host, int flavor, int* info, uint* count);

    /// <summary>The kernel's page size, the unit of <c>vm_statistics64</c>'s counts (16 KiB on Apple Silicon, 4 KiB on Intel).</summary>
    [LibraryImport(Library)]
    internal static partial int host_page_size(uint host, nuint* pageSize);

    [LibraryImport(Library)]
    internal static partial int vm_deallocate(uint task, nuint address, nuint size);

    [LibraryImport(Library)]
    internal static partial int mach_port_deallocate(uint task, uint name);

    /// <summary>
    /// <c>mach_task_self()</c>: a macro that reads the global <c>mach_task_self_</c>
    /// (<c>&lt;mach/mach_init.h&gt;</c>), set by libSystem at start and constant for the process.
    /// </summary>
    /// <exception cref="EntryPointNotFoundException">libSystem exports no <c>mach_task_self_</c>.</exception>
    internal static uint TaskSelf()
    {
        nint library = NativeLibrary.Load(Library);
        nint address = NativeLibrary.GetExport(library, "mach_task_self_");
        return *(uint*)address;
    }
}

/// <summary>
/// <c>struct processor_cpu_load_info</c> (<c>&lt;mach/processor_info.h&gt;</c>): one CPU's
/// <c>natural_t cpu_ticks[CPU_STATE_MAX]</c>, indexed by <c>CPU_STATE_USER</c> 0,
/// <c>CPU_STATE_SYSTEM</c> 1, <c>CPU_STATE_IDLE</c> 2, <c>CPU_STATE_NICE</c> 3
/// (<c>&lt;mach/machine.h&gt;</c>). 16 bytes; the counters are 32-bit and wrap. Also the layout
/// of <c>host_cpu_load_info</c> (<c>&lt;mach/host_info.h&gt;</c>), the same four states summed.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CpuLoadTicks(uint user, uint system, uint idle, uint nice)
{
    /// <summary><c>cpu_ticks[CPU_STATE_USER]</c>.</summary>
    public readonly uint User = user;

    /// <summary><c>cpu_ticks[CPU_STATE_SYSTEM]</c>.</summary>
    public readonly uint System = system;

    /// <summary><c>cpu_ticks[CPU_STATE_IDLE]</c>.</summary>
    public readonly uint Idle = idle;

    /// <summary><c>cpu_ticks[CPU_STATE_NICE]</c>.</summary>
    public readonly uint Nice = nice;
}

/// <summary>
/// <c>struct vm_statistics64</c> (<c>&lt;mach/vm_statistics.h&gt;</c>, rev1, 152 bytes,
/// <c>__attribute__((aligned(8)))</c>): page counts are <c>natural_t</c> (32-bit), event
/// counters <c>uint64_t</c>. Natural alignment gives the header's offsets on arm64 and x86_64
/// (no padding: every <c>uint64_t</c> follows an even number of <c>natural_t</c>s).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VmStatistics64
{
    /// <summary><c>HOST_VM_INFO64_COUNT</c>: the whole rev1 structure in <c>integer_t</c>s, <c>sizeof(vm_statistics64) / sizeof(integer_t)</c> = 152 / 4.</summary>
    internal const uint IntegerCount = 38;

    /// <summary>The <c>integer_t</c>s up to and including <see cref="ExternalPageCount"/> (offset 136): a kernel that fills fewer has no file-backed count.</summary>
    internal const uint IntegerCountWithExternalPages = 35;

    /// <summary>Free pages, including the speculative ones (<c>vm_stat</c> prints free − speculative).</summary>
    public uint FreeCount;
    public uint ActiveCount;
    public uint InactiveCount;
    public uint WireCount;
    public ulong ZeroFillCount;
    public ulong Reactivations;
    public ulong Pageins;
    public ulong Pageouts;
    public ulong Faults;
    public ulong CowFaults;
    public ulong Lookups;
    public ulong Hits;
    public ulong Purges;

    /// <summary>Pages of purgeable (volatile) objects the kernel may discard: anonymous, so not in <see cref="ExternalPageCount"/>.</summary>
    public uint PurgeableCount;

    /// <summary>Read-ahead file pages, resident and counted in <see cref="FreeCount"/> and in <see cref="ExternalPageCount"/>.</summary>
    public uint SpeculativeCount;
    public ulong Decompressions;
    public ulong Compressions;
    public ulong Swapins;
    public ulong Swapouts;
    public uint CompressorPageCount;
    public uint ThrottledCount;

    /// <summary>File-backed pages (any queue): the file cache, which the kernel drops without writing to swap.</summary>
    public uint ExternalPageCount;

    /// <summary>Anonymous pages (any queue).</summary>
    public uint InternalPageCount;
    public ulong TotalUncompressedPagesInCompressor;
}
