using System.Globalization;
using System.Numerics;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Compute;

/// <summary>
/// Memory figures from <c>hw.memsize</c>, <c>host_page_size</c> and
/// <c>host_statistics64(HOST_VM_INFO64)</c>, and the memory pressure level. Pure functions: the
/// probe reads, this decides.
/// </summary>
/// <remarks>
/// Available = (free − speculative + file-backed + purgeable) pages x page size. These are the
/// pages the kernel hands to new work without compressing or swapping anything: free pages; the
/// file cache (<c>external_page_count</c>, which already holds the speculative read-ahead pages,
/// hence free − speculative: <c>free_count</c> counts them too), dropped without a write; and
/// purgeable (volatile) anonymous pages, which their owners allowed the kernel to discard. It is
/// what Activity Monitor leaves out of "Memory Used" (app memory, wired, compressed), the analogue
/// of Linux's MemAvailable (free + reclaimable cache). The often quoted free + inactive (psutil,
/// Zabbix) also counts inactive anonymous pages, which only compression or swap can free, so it
/// promises memory that costs paging to get. Used = total − available, as on Linux.
/// </remarks>
internal static class MacMemory
{
    /// <summary>
    /// The largest <c>hw.memsize</c> accepted: 64 TiB. The most memory a Mac takes is 1.5 TB (the
    /// 2019 Mac Pro); 64 TiB is forty times that, and rejects sentinels such as 2^64 − 1 (which
    /// reads as −1) and a value that is not bytes.
    /// </summary>
    internal const long MaxMemoryBytes = 64L << 40;

    /// <summary>The smallest kernel page size accepted: 4 KiB (Intel Macs).</summary>
    internal const long MinPageBytes = 4096;

    /// <summary>The largest kernel page size accepted: 64 KiB (arm64 allows 4, 16 and 64 KiB granules; Apple Silicon uses 16).</summary>
    internal const long MaxPageBytes = 65536;

    /// <summary>
    /// <c>NOTE_MEMORYSTATUS_PRESSURE_NORMAL</c> (<c>&lt;sys/event.h&gt;</c>, the same values as
    /// <c>DISPATCH_MEMORYPRESSURE_*</c>): the sysctl <c>kern.memorystatus_vm_pressure_level</c>
    /// converts the kernel's internal level to these (bsd/kern/kern_memorystatus_notify.c).
    /// Normal: enough free memory.
    /// </summary>
    internal const long PressureLevelNormal = 1;

    /// <summary><c>NOTE_MEMORYSTATUS_PRESSURE_WARN</c> (the internal warning and urgent levels): the kernel is compressing and paging to keep up; apps are asked to free memory.</summary>
    internal const long PressureLevelWarning = 2;

    /// <summary><c>NOTE_MEMORYSTATUS_PRESSURE_CRITICAL</c>: memory is exhausted; the kernel kills processes (jetsam) to free it.</summary>
    internal const long PressureLevelCritical = 4;

    /// <summary>The pressure reported for <see cref="PressureLevelWarning"/>: half way, a level between "none" and "exhausted".</summary>
    internal const double WarningPressure = 0.5;

    /// <summary>The source of a pressure reading, naming the mapping.</summary>
    internal const string PressureSource = "sysctl kern.memorystatus_vm_pressure_level (normal 1 -> 0, warning 2 -> 0.5, critical 4 -> 1)";

    /// <summary>The reason <see cref="ComputeFactors.CpuPressure"/> is NotSupported.</summary>
    internal const string NoCpuPressure = "macOS has no PSI: no measure of time spent waiting for a CPU";

    /// <summary>Checks <c>hw.memsize</c>; the reason when it is implausible.</summary>
    public static string? CheckTotal(long bytes) =>
        bytes is > 0 and <= MaxMemoryBytes
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"implausible memory size '{bytes}' in sysctl hw.memsize (plausible 1..{MaxMemoryBytes} bytes: at most 64 TiB, forty times the largest Mac's 1.5 TB)");

    /// <summary>Checks the page size; the reason when it is implausible.</summary>
    public static string? CheckPageSize(long bytes) =>
        bytes is >= MinPageBytes and <= MaxPageBytes && BitOperations.IsPow2(bytes)
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"implausible page size '{bytes}' from host_page_size (plausible: a power of two from 4096 to 65536 bytes)");

    /// <summary>
    /// Memory available to new work without compressing or swapping, in bytes, or the reason there
    /// is none: counts that contradict each other or exceed the machine.
    /// </summary>
    /// <param name="vm">The statistics.</param>
    /// <param name="filledCount">How many <c>integer_t</c>s the kernel filled.</param>
    /// <param name="pageBytes">The kernel page size (checked by <see cref="CheckPageSize"/>).</param>
    /// <param name="totalBytes">The machine's memory (checked by <see cref="CheckTotal"/>).</param>
    /// <param name="available">The available bytes.</param>
    /// <returns>Null, or why the statistics cannot be believed.</returns>
    public static string? TryAvailable(in VmStatistics64 vm, uint filledCount, long pageBytes, long totalBytes, out long available)
    {
        available = 0;
        if (filledCount < VmStatistics64.IntegerCountWithExternalPages)
        {
            return string.Create(CultureInfo.InvariantCulture, $"host_statistics64(HOST_VM_INFO64) filled {filledCount} of {VmStatistics64.IntegerCount} integers: no file-backed page count (a kernel before vm_statistics64 rev1)");
        }

        if (vm.SpeculativeCount > vm.FreeCount)
        {
            return string.Create(CultureInfo.InvariantCulture, $"host_statistics64(HOST_VM_INFO64): {vm.SpeculativeCount} speculative pages above {vm.FreeCount} free pages, which include them");
        }

        // Free (less speculative), file-backed and purgeable pages are disjoint sets of physical pages.
        ulong pages = (ulong)(vm.FreeCount - vm.SpeculativeCount) + vm.ExternalPageCount + vm.PurgeableCount;
        ulong bytes = pages * (ulong)pageBytes;
        if (bytes > (ulong)totalBytes)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"implausible available memory: {pages} pages of {pageBytes} bytes (free {vm.FreeCount} - speculative {vm.SpeculativeCount} + file-backed {vm.ExternalPageCount} + purgeable {vm.PurgeableCount}) = {bytes} bytes, above hw.memsize {totalBytes}");
        }

        available = (long)bytes;
        return null;
    }

    /// <summary>Maps the pressure level to a 0..1 pressure, or null for a level the kernel does not define.</summary>
    public static double? Pressure(long level) => level switch
    {
        PressureLevelNormal => 0,
        PressureLevelWarning => WarningPressure,
        PressureLevelCritical => 1,
        _ => null,
    };
}
