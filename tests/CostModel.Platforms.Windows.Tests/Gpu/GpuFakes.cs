using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;
using CostModel.Platforms.Gpu;
using CostModel.Platforms.Windows.Gpu;

namespace CostModel.Platforms.Windows.Tests.Gpu;

/// <summary>One instance as the fake PDH reports it.</summary>
internal readonly record struct FakeInstance(string Name, double Value, uint Status = PdhStatus.ValidData);

/// <summary>
/// A PDH that answers like pdh.dll: handles, status codes, and <c>PDH_FMT_COUNTERVALUE_ITEM_W</c>
/// arrays written into the caller's pinned buffer (items first, then the UTF-16 names they point to),
/// with <c>PDH_MORE_DATA</c> and the size needed when the buffer is too small.
/// </summary>
internal sealed class FakePdh : IPdhApi
{
    public const nint Query = 0x100;
    public const nint EngineCounter = 0x211;
    public const nint MemoryCounter = 0x322;

    public uint OpenStatus { get; set; } = PdhStatus.Success;

    public Dictionary<string, uint> AddStatus { get; } = [];

    public Queue<uint> CollectStatuses { get; } = new();

    public List<FakeInstance> Engines { get; set; } = [];

    public List<FakeInstance> Memory { get; set; } = [];

    /// <summary>When set, the array call returns this for the engine counter instead of data.</summary>
    public uint? EngineArrayStatus { get; set; }

    /// <summary>When set, the item count reported is this, whatever was written (a lying PDH).</summary>
    public uint? LieItemCount { get; set; }

    /// <summary>When set, PDH_MORE_DATA asks for this size (a lying PDH).</summary>
    public uint? LieRequiredSize { get; set; }

    /// <summary>Called after each PDH_MORE_DATA answer (instances appearing between the size query and the read).</summary>
    public Action? AfterMoreData { get; set; }

    /// <summary>Overrides the name pointer of every item (a hostile or broken PDH).</summary>
    public nint? NamePointerOverride { get; set; }

    public int OpenCalls { get; private set; }

    public int CloseCalls { get; private set; }

    public int CollectCalls { get; private set; }

    public int MoreDataAnswers { get; private set; }

    public List<uint> BufferSizesSeen { get; } = [];

    public uint OpenQuery(out nint query)
    {
        OpenCalls++;
        query = OpenStatus == PdhStatus.Success ? Query : 0;
        return OpenStatus;
    }

    public uint AddEnglishCounter(nint query, string path, out nint counter)
    {
        ExpectQuery(query);
        uint status = AddStatus.GetValueOrDefault(path, PdhStatus.Success);
        counter = status != PdhStatus.Success ? 0
            : path == GpuPdhSampler.EngineCounterPath ? EngineCounter
            : path == GpuPdhSampler.MemoryCounterPath ? MemoryCounter
            : throw new InvalidOperationException("unexpected counter " + path);
        return status;
    }

    public uint CollectQueryData(nint query)
    {
        ExpectQuery(query);
        CollectCalls++;
        return CollectStatuses.Count > 0 ? CollectStatuses.Dequeue() : PdhStatus.Success;
    }

    public uint GetFormattedCounterArray(nint counter, uint format, ref uint bufferSize, out uint itemCount, nint buffer)
    {
        if (format != (PdhStatus.FormatDouble | PdhStatus.FormatNoCap100))
        {
            throw new InvalidOperationException($"the sampler asked for format 0x{format:X8}, not PDH_FMT_DOUBLE | PDH_FMT_NOCAP100");
        }

        BufferSizesSeen.Add(bufferSize);
        itemCount = 0;
        if (counter == EngineCounter && EngineArrayStatus is { } forced)
        {
            return forced;
        }

        List<FakeInstance> items = counter == EngineCounter ? Engines : counter == MemoryCounter ? Memory : throw new InvalidOperationException("bad counter handle");
        int itemSize = Marshal.SizeOf<PdhFormattedItem>();
        int required = items.Count * itemSize;
        foreach (FakeInstance item in items)
        {
            required += (item.Name.Length + 1) * 2;
        }

        if (required > 0 && (buffer == 0 || bufferSize < required))
        {
            bufferSize = LieRequiredSize ?? (uint)required;
            MoreDataAnswers++;
            AfterMoreData?.Invoke();
            return PdhStatus.MoreData;
        }

        int nameOffset = items.Count * itemSize;
        for (int i = 0; i < items.Count; i++)
        {
            nint entry = buffer + (i * itemSize);
            nint name = buffer + nameOffset;
            Marshal.WriteIntPtr(entry, NamePointerOverride ?? name);
            Marshal.WriteInt32(entry + 8, unchecked((int)items[i].Status));
            Marshal.WriteInt64(entry + 16, BitConverter.DoubleToInt64Bits(items[i].Value));
            byte[] utf16 = Encoding.Unicode.GetBytes(items[i].Name + "\0");
            Marshal.Copy(utf16, 0, name, utf16.Length);
            nameOffset += utf16.Length;
        }

        itemCount = LieItemCount ?? (uint)items.Count;
        return PdhStatus.Success;
    }

    public uint CloseQuery(nint query)
    {
        ExpectQuery(query);
        CloseCalls++;
        return PdhStatus.Success;
    }

    /// <summary>
    /// Fails the caller (a test, or the fuzzer, which links this file: hence no xunit here) when the
    /// sampler uses a query handle this PDH never gave out.
    /// </summary>
    private static void ExpectQuery(nint query)
    {
        if (query != Query)
        {
            throw new InvalidOperationException($"the sampler used query handle 0x{query:X}, not the 0x{Query:X} PdhOpenQueryW gave out");
        }
    }

    /// <summary>A GPU Engine instance name as Windows writes it.</summary>
    public static string Engine(int pid, uint luidLow, int engine, string type, uint luidHigh = 0, int phys = 0) =>
        $"pid_{pid}_luid_0x{luidHigh:X8}_0x{luidLow:X8}_phys_{phys}_eng_{engine}_engtype_{type}";

    /// <summary>A GPU Adapter Memory instance name as Windows writes it.</summary>
    public static string Adapter(uint luidLow, uint luidHigh = 0, int phys = 0) => $"luid_0x{luidHigh:X8}_0x{luidLow:X8}_phys_{phys}";
}

/// <summary>A DXGI adapter list from a test.</summary>
internal sealed class FakeDxgi : IDxgiAdapterSource
{
    public DxgiEnumeration Result { get; set; } = new([], null, NotSupported: false);

    public int Calls { get; private set; }

    public DxgiEnumeration Enumerate()
    {
        Calls++;
        return Result;
    }

    public static DxgiEnumeration Of(params DxgiAdapterInfo[] adapters) => new([.. adapters], null, NotSupported: false);

    /// <summary>An RTX 4090 (24 GiB) at LUID 0x0000C1F2.</summary>
    public static DxgiAdapterInfo Rtx4090(int ordinal = 0, uint luidLow = 0xC1F2) =>
        new(ordinal, "NVIDIA GeForce RTX 4090", DxgiVendors.Nvidia, 0x2684, 24UL << 30, GpuInstanceName.Luid(0, luidLow), 0);

    /// <summary>A Radeon RX 7900 XTX (24 GiB).</summary>
    public static DxgiAdapterInfo Radeon(int ordinal = 1, uint luidLow = 0xD3A1) =>
        new(ordinal, "AMD Radeon RX 7900 XTX", DxgiVendors.Amd, 0x744C, 24UL << 30, GpuInstanceName.Luid(0, luidLow), 0);

    /// <summary>Intel Iris Xe, integrated: 128 MiB carve-out.</summary>
    public static DxgiAdapterInfo IrisXe(int ordinal = 0, uint luidLow = 0xE0B2) =>
        new(ordinal, "Intel(R) Iris(R) Xe Graphics", DxgiVendors.Intel, 0x9A49, 128UL << 20, GpuInstanceName.Luid(0, luidLow), 0);

    /// <summary>The Microsoft Basic Render Driver (WARP), always last.</summary>
    public static DxgiAdapterInfo BasicRender(int ordinal = 2, uint luidLow = 0xF00D) =>
        new(ordinal, "Microsoft Basic Render Driver", DxgiVendors.Microsoft, 0x8C, 0, GpuInstanceName.Luid(0, luidLow), DxgiVendors.SoftwareFlag);
}

/// <summary>A minimal NVML with one or more healthy GPUs (or a failing init), with the real return codes.</summary>
internal sealed class FakeNvml : INvmlApi
{
    public List<string> Gpus { get; } = [];

    public NvmlReturn InitResult { get; set; } = NvmlReturn.Success;

    public uint Celsius { get; set; } = 41;

    public uint Milliwatts { get; set; } = 95_000;

    public int ShutdownCalls { get; private set; }

    public NvmlReturn Init() => InitResult;

    public NvmlReturn Shutdown()
    {
        ShutdownCalls++;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetCount(out uint count)
    {
        count = (uint)Gpus.Count;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetHandleByIndex(uint index, out nint device)
    {
        device = (nint)(0x1000 + index);
        return index < Gpus.Count ? NvmlReturn.Success : NvmlReturn.InvalidArgument;
    }

    public NvmlReturn DeviceGetName(nint device, Span<byte> name)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(Gpus[(int)(device - 0x1000)]);
        utf8.CopyTo(name);
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetUtilizationRates(nint device, out NvmlUtilization utilization)
    {
        utilization = new NvmlUtilization { Gpu = 37, Memory = 10 };
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetMemoryInfo(nint device, out NvmlMemory memory)
    {
        memory = new NvmlMemory { Total = 24UL << 30, Used = 3UL << 30, Free = 21UL << 30 };
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetTemperature(nint device, int sensor, out uint celsius)
    {
        celsius = Celsius;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetPowerUsage(nint device, out uint milliwatts)
    {
        milliwatts = Milliwatts;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetCurrentClocksEventReasons(nint device, out ulong reasons)
    {
        reasons = NvmlConstants.ReasonGpuIdle;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetMigMode(nint device, out uint currentMode, out uint pendingMode)
    {
        currentMode = pendingMode = 0;
        return NvmlReturn.NotSupported;
    }
}

/// <summary>Builds <see cref="WindowsGpuAccess"/> from fakes.</summary>
internal static class FakeAccess
{
    public const string NoNvml = "nvml.dll or C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvml.dll could not be loaded (no NVIDIA driver, or its libraries are not visible to this process)";

    public static WindowsGpuAccess Of(FakePdh pdh, FakeDxgi dxgi, FakeNvml? nvml = null) =>
        new(pdh, dxgi, (out string reason) =>
        {
            reason = nvml is null ? NoNvml : "nvml.dll";
            return nvml;
        });

    public static ImmutableArray<T> Arr<T>(params T[] items) => [.. items];
}
