using CostModel.Platforms.MacOS.Compute;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.Tests.MacOS.Compute;

/// <summary>An <see cref="IMacComputeSource"/> that returns what a test sets: recorded readings or broken ones.</summary>
internal sealed class FakeComputeSource : IMacComputeSource
{
    /// <summary>The integer sysctls; a name not here reads as missing (ENOENT).</summary>
    public Dictionary<string, long> Sysctls { get; } = new(StringComparer.Ordinal);

    /// <summary>Sysctls whose read fails.</summary>
    public Dictionary<string, MacRead> SysctlFailures { get; } = new(StringComparer.Ordinal);

    /// <summary>How many times each sysctl was read.</summary>
    public Dictionary<string, int> SysctlReads { get; } = new(StringComparer.Ordinal);

    public CpuLoadTicks[] Ticks { get; set; } = [];

    public MacRead TicksRead { get; set; } = MacRead.Ok;

    public double LoadAverage { get; set; } = 1.0;

    public MacRead LoadRead { get; set; } = MacRead.Ok;

    public VmStatistics64 Vm { get; set; }

    public uint VmFilledCount { get; set; } = VmStatistics64.IntegerCount;

    public MacRead VmRead { get; set; } = MacRead.Ok;

    public long PageBytes { get; set; } = 16384;

    public MacRead PageRead { get; set; } = MacRead.Ok;

    public int PageReads { get; private set; }

    /// <summary>Loads a recorded <c>vm_stat</c>: its statistics and page size.</summary>
    public FakeComputeSource WithVmStat(string file, long memoryBytes)
    {
        (VmStatistics64 stats, long pageBytes) = RecordedMac.LoadVmStat(file);
        Vm = stats;
        PageBytes = pageBytes;
        Sysctls["hw.memsize"] = memoryBytes;
        return this;
    }

    /// <summary>Loads recorded <c>sysctl</c> output.</summary>
    public FakeComputeSource WithSysctl(string file)
    {
        foreach ((string name, long value) in RecordedMac.LoadSysctl(file))
        {
            Sysctls[name] = value;
        }

        return this;
    }

    public MacRead ReadCpuTicks(List<CpuLoadTicks> ticks)
    {
        ticks.Clear();
        if (TicksRead.IsOk)
        {
            ticks.AddRange(Ticks);
        }

        return TicksRead;
    }

    public MacRead ReadSysctl(string name, out long value)
    {
        SysctlReads[name] = SysctlReads.GetValueOrDefault(name) + 1;
        value = 0;
        if (SysctlFailures.TryGetValue(name, out MacRead failure))
        {
            return failure;
        }

        return Sysctls.TryGetValue(name, out value) ? MacRead.Ok : MacRead.Missing($"sysctl {name}: no such name on this Mac (ENOENT)");
    }

    public MacRead ReadLoadAverage(out double oneMinute)
    {
        oneMinute = LoadAverage;
        return LoadRead;
    }

    public MacRead ReadVmStatistics(out VmStatistics64 statistics, out uint filledCount)
    {
        statistics = Vm;
        filledCount = VmFilledCount;
        return VmRead;
    }

    public MacRead ReadPageSize(out long bytes)
    {
        PageReads++;
        bytes = PageBytes;
        return PageRead;
    }
}
