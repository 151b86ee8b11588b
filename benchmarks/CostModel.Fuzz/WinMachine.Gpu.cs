using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using CostModel.Platforms.Gpu;
using CostModel.Platforms.Windows.Gpu;
using CostModel.Platforms.Windows.Tests.Gpu;
using NvmlFake = CostModel.Platforms.Tests.Gpu.FakeNvml;
using NvmlFakeGpu = CostModel.Platforms.Tests.Gpu.FakeNvmlGpu;

namespace CostModel.Fuzz;

/// <summary>
/// The healthy laptop's GPUs, as the Windows GPU probe's seam (<see cref="WindowsGpuAccess"/>:
/// PDH, DXGI, the NVML loader) answers for them, each answer a structure of bytes an input edits
/// like the other calls' (<see cref="WinCall.GpuAdapters"/> to <see cref="WinCall.NvmlReadings"/>).
/// </summary>
/// <remarks>
/// <para>
/// The healthy GPUs are the Windows GPU tests' machine with NVML
/// (tests/CostModel.Platforms.Windows.Tests/Gpu/WindowsGpuProbeTests.cs,
/// <c>With_NVML_the_NVIDIA_GPU_comes_from_NVML_once_and_the_others_from_DXGI</c>): DXGI lists an
/// Intel Iris Xe (128 MiB carve-out, LUID 0xE0B2), an NVIDIA GeForce RTX 4090 (24 GiB, LUID 0xC1F2)
/// and the Microsoft Basic Render Driver (a software adapter, LUID 0xF00D), as the tests' fake
/// DXGI builds them (GpuFakes.cs, <see cref="FakeDxgi"/>); PDH's instances are those tests'
/// (<c>GPU Engine</c>: the RTX 4090's 3D engine at 35 % and 15 % from two processes and its
/// Compute_0 engine at 62 %, a VideoDecode engine at 8 %, here the Iris Xe's; <c>GPU Adapter
/// Memory</c>: 2 GiB in use on the RTX 4090, none on the Iris Xe and the Basic Render Driver); NVML
/// (nvml.dll) loads and lists the RTX 4090 with the Windows tests' fake NVML readings (37 % busy,
/// 3 of 24 GiB in use, 41 C, 95 000 mW, clocks held only for idle). So the NVIDIA GPU is read
/// through NVML, the Intel GPU through DXGI and PDH, and the software adapter is not a GPU.
/// </para>
/// <para>
/// The fakes behind the seam are the tests' own, linked: <see cref="FakePdh"/> writes the counter
/// arrays into the sampler's pinned buffer as pdh.dll does, <see cref="FakeDxgi"/> answers the
/// enumeration built from <see cref="DxgiAnswer"/>, and the platform tests' NVML fake
/// (<c>CostModel.Platforms.Tests.Gpu.FakeNvml</c>) answers each call with its code and values.
/// </para>
/// </remarks>
internal sealed partial class WinMachine
{
    /// <summary>Adapter slots of <see cref="DxgiAnswer"/>: the healthy laptop's three and one an input can add.</summary>
    public const int DxgiSlots = 4;

    /// <summary>Item slots of a <see cref="PdhArrayAnswer"/>: twice the healthy laptop's four engine instances.</summary>
    public const int PdhItemSlots = 8;

    /// <summary>
    /// UTF-16 characters of a <see cref="PdhArrayAnswer"/>'s name pool: room for the eight slots'
    /// names (about 60 characters each), and for one past <see cref="GpuInstanceName.MaxLength"/> (256).
    /// </summary>
    public const int PdhNameChars = 512;

    /// <summary>GPU slots of the NVML answers: the healthy laptop's one NVIDIA GPU and a second an input can list.</summary>
    public const int NvmlSlots = 2;

    /// <summary><see cref="PdhArrayAnswer.Lies"/>: the item count answered is <see cref="PdhArrayAnswer.ReportedCount"/>, whatever was written.</summary>
    public const uint PdhLieCount = 0x1;

    /// <summary><see cref="PdhArrayAnswer.Lies"/>: <c>PDH_MORE_DATA</c> asks for <see cref="PdhArrayAnswer.RequiredSize"/> bytes, whatever the items need.</summary>
    public const uint PdhLieSize = 0x2;

    /// <summary><see cref="PdhArrayAnswer.Lies"/>: every item's name pointer is the buffer's start plus <see cref="PdhArrayAnswer.NameOffset"/>.</summary>
    public const uint PdhLieName = 0x4;

    /// <summary><c>DXGI_ERROR_NOT_FOUND</c> (0x887A0002): <c>EnumAdapters1</c>'s answer past the last adapter.</summary>
    public const int DxgiNotFound = unchecked((int)0x887A0002);

    /// <summary><c>DXGI_ERROR_UNSUPPORTED</c> (0x887A0004): <c>CreateDXGIFactory1</c>'s answer without a graphics stack (a lasting absence).</summary>
    public const int DxgiUnsupported = unchecked((int)0x887A0004);

    /// <summary>What the healthy NVML loader answers as where it loaded from.</summary>
    private const string NvmlLoadedFrom = "nvml.dll";

    /// <summary>The Iris Xe's, RTX 4090's and Basic Render Driver's LUIDs (low parts; the high parts are 0), as the Windows GPU tests give them.</summary>
    private const uint IrisLuid = 0xE0B2;

    private const uint RtxLuid = 0xC1F2;

    private const uint BasicRenderLuid = 0xF00D;

    /// <summary>Dedicated memory in use on the RTX 4090, in bytes (2 GiB, the probe tests' figure).</summary>
    private const double RtxDedicatedBytes = 2_147_483_648;

    /// <summary>The RTX 4090 as NVML reads it (the Windows tests' fake NVML): 37 % busy, 24 GiB with 3 in use, 41 C, 95 000 mW.</summary>
    private const uint RtxBusyPercent = 37;

    private const ulong RtxTotalBytes = 24UL << 30;

    private const ulong RtxUsedBytes = 3UL << 30;

    private const uint RtxCelsius = 41;

    private const uint RtxMilliwatts = 95_000;

    /// <summary>
    /// Why NVML did not load, as <c>NvmlLibrary.TryLoad</c> words its two failures (picked by
    /// <see cref="NvmlDevicesAnswer.LoadFailure"/>): no candidate loads (the tests' reason,
    /// <see cref="FakeAccess.NoNvml"/>), or one loads without the entry points of driver R418.
    /// </summary>
    private static readonly string[] NvmlLoadFailures =
    [
        FakeAccess.NoNvml,
        "nvml.dll loaded but lacks nvmlInit_v2/nvmlDeviceGetCount_v2/nvmlDeviceGetHandleByIndex_v2 (NVML older than driver R418)",
    ];

    /// <summary>The GPU answers the probe reads only when it starts or lists again (every 30 s): an edit of one restarts it (<see cref="GpuRestart"/>).</summary>
    private static readonly WinCall[] GpuStartCalls = [WinCall.GpuAdapters, WinCall.PdhOpen, WinCall.NvmlDevices];

    private readonly FakePdh _pdh = new();
    private readonly FakeDxgi _dxgi = new();
    private readonly NvmlFake _nvml = new();
    private readonly NvmlFakeGpu[] _nvmlGpus = [.. Enumerable.Range(0, NvmlSlots).Select(_ => new NvmlFakeGpu())];

    /// <summary>A <see cref="Edit{T}"/> edit: changes the healthy answer in place.</summary>
    /// <typeparam name="T">The answer's structure.</typeparam>
    /// <param name="answer">The answer.</param>
    public delegate void AnswerEdit<T>(ref T answer);

    /// <summary>The GPU probe's seam over this laptop's answers.</summary>
    public WindowsGpuAccess Gpu { get; private set; } = null!;

    /// <summary>
    /// True when the last input edited an answer the GPU probe reads only when it starts and every
    /// 30 s after (<see cref="GpuStartCalls"/>: the adapter list, the PDH query, the NVML library and
    /// its device list): the target then starts a new probe (a service restart), so that the edit
    /// reaches the probe on the input that makes it. An input that edits none of them leaves the
    /// probe running: it finds the healthy answers again when it next lists (a driver that recovers
    /// while the service runs: the query opened again, NVML initialised again, the list changed).
    /// </summary>
    public bool GpuRestart { get; private set; }

    /// <summary>
    /// A seed's edit of one answer: the healthy answer changed by <paramref name="edit"/>, as the
    /// overlay segments (of at most 255 bytes, each at a step of the answer) that make it.
    /// </summary>
    /// <typeparam name="T">The answer's structure.</typeparam>
    /// <param name="call">The call.</param>
    /// <param name="edit">The edit.</param>
    /// <returns>The segments.</returns>
    public byte[] Edit<T>(WinCall call, AnswerEdit<T> edit)
        where T : unmanaged
    {
        byte[] healthy = _answers[(int)call].Healthy;
        T value = MemoryMarshal.Read<T>(healthy);
        edit(ref value);
        ReadOnlySpan<byte> edited = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));
        int step = Step(healthy.Length);
        var segments = new List<byte>();
        int i = 0;
        while (i < edited.Length)
        {
            if (edited[i] == healthy[i])
            {
                i++;
                continue;
            }

            int start = i / step * step;
            int last = i;
            for (int j = i; j < Math.Min(edited.Length, start + byte.MaxValue); j++)
            {
                last = edited[j] != healthy[j] ? j : last;
            }

            segments.AddRange(Segment(call, 0, start / step, edited[start..(last + 1)].ToArray()));
            i = last + 1;
        }

        return [.. segments];
    }

    /// <summary>The healthy GPU answers and the fakes behind the seam.</summary>
    private void BuildGpu()
    {
        DxgiAnswer adapters = default;
        adapters.Listed = 3;
        adapters.EndResult = DxgiNotFound;
        adapters.Adapters[0] = Desc(FakeDxgi.IrisXe(0, IrisLuid));
        adapters.Adapters[1] = Desc(FakeDxgi.Rtx4090(1, RtxLuid));
        adapters.Adapters[2] = Desc(FakeDxgi.BasicRender(2, BasicRenderLuid));

        // The spare slot: a second RTX 4090 at another LUID, for an input that lists four adapters.
        adapters.Adapters[3] = Desc(FakeDxgi.Rtx4090(3, RtxLuid + 1));
        Set(WinCall.GpuAdapters, adapters);

        Set(WinCall.PdhOpen, new PdhOpenAnswer(PdhStatus.Success, PdhStatus.Success, PdhStatus.Success, PdhStatus.Success));
        Set(WinCall.PdhCollect, PdhStatus.Success);
        Set(WinCall.PdhEngines, Counters(
            (FakePdh.Engine(10, RtxLuid, 0, "3D"), 35),
            (FakePdh.Engine(11, RtxLuid, 0, "3D"), 15),
            (FakePdh.Engine(11, RtxLuid, 5, "Compute_0"), 62),
            (FakePdh.Engine(12, IrisLuid, 2, "VideoDecode"), 8)));
        Set(WinCall.PdhMemory, Counters(
            (FakePdh.Adapter(RtxLuid), RtxDedicatedBytes),
            (FakePdh.Adapter(IrisLuid), 0),
            (FakePdh.Adapter(BasicRenderLuid), 0)));

        NvmlDevicesAnswer devices = default;
        devices.Listed = 1;
        for (int i = 0; i < NvmlSlots; i++)
        {
            ref NvmlDeviceAnswer device = ref devices.Devices[i];
            Encoding.UTF8.GetBytes(FakeDxgi.Rtx4090().Description, device.Name);
            device.MigResult = (int)NvmlReturn.NotSupported;
        }

        Set(WinCall.NvmlDevices, devices);
        NvmlReadingsAnswer readings = default;
        for (int i = 0; i < NvmlSlots; i++)
        {
            readings[i] = new NvmlReadingAnswer
            {
                Utilization = RtxBusyPercent,
                MemoryUsed = RtxUsedBytes,
                MemoryTotal = RtxTotalBytes,
                Celsius = RtxCelsius,
                Milliwatts = RtxMilliwatts,
                Reasons = NvmlConstants.ReasonGpuIdle,
            };
        }

        Set(WinCall.NvmlReadings, readings);
        Gpu = new WindowsGpuAccess(new PdhApi(this), _dxgi, LoadNvml);
        ConfigureGpu();
    }

    /// <summary>
    /// After an input's edits: the fakes take this collection's answers (the adapter list, the PDH
    /// instances, the NVML devices and readings), and <see cref="GpuRestart"/> says whether the
    /// input edited an answer read only when the probe starts or lists again.
    /// </summary>
    private void ConfigureGpu()
    {
        _dxgi.Result = Enumeration();
        Instances(Read<PdhArrayAnswer>(WinCall.PdhEngines), _pdh.Engines);
        Instances(Read<PdhArrayAnswer>(WinCall.PdhMemory), _pdh.Memory);

        NvmlDevicesAnswer devices = Read<NvmlDevicesAnswer>(WinCall.NvmlDevices);
        NvmlReadingsAnswer readings = Read<NvmlReadingsAnswer>(WinCall.NvmlReadings);
        int readError = ErrorOf(WinCall.NvmlReadings);
        _nvml.InitResult = ErrorOf(WinCall.NvmlDevices) is var initError and not 0 ? (NvmlReturn)initError : (NvmlReturn)devices.InitResult;
        _nvml.CountResult = (NvmlReturn)devices.CountResult;

        // Every slot stays behind its handle, listed or not: a probe that listed more devices before
        // (a restart over an edited list) still holds their handles, and NVML answers a handle with
        // a code, never by failing the caller as the fake does for one it never gave out.
        _nvml.ReportedCount = devices.LiesAboutCount != 0 ? devices.ReportedCount : Math.Min(devices.Listed, NvmlSlots);
        _nvml.Gpus.Clear();
        for (int i = 0; i < NvmlSlots; i++)
        {
            NvmlDeviceAnswer device = devices.Devices[i];
            NvmlReadingAnswer reading = readings[i];
            NvmlFakeGpu gpu = _nvmlGpus[i];
            ReadOnlySpan<byte> name = device.Name;
            int nul = name.IndexOf((byte)0);
            gpu.Name = Encoding.UTF8.GetString(nul < 0 ? name : name[..nul]);
            gpu.HandleResult = (NvmlReturn)device.HandleResult;
            gpu.NameResult = (NvmlReturn)device.NameResult;
            gpu.Mig = ((NvmlReturn)device.MigResult, device.MigMode);
            gpu.Utilization = (Result(readError, reading.UtilizationResult), reading.Utilization);
            gpu.Memory = (Result(readError, reading.MemoryResult), reading.MemoryUsed, reading.MemoryTotal);
            gpu.Temperature = (Result(readError, reading.TemperatureResult), reading.Celsius);
            gpu.Power = (Result(readError, reading.PowerResult), reading.Milliwatts);
            gpu.Reasons = (Result(readError, reading.ReasonsResult), reading.Reasons);
            _nvml.Gpus.Add(gpu);
        }

        GpuRestart = false;
        foreach (WinCall call in GpuStartCalls)
        {
            Answer answer = _answers[(int)call];
            GpuRestart |= answer.Error != 0 || !answer.Healthy.AsSpan().SequenceEqual(answer.Current);
        }
    }

    private static NvmlReturn Result(int error, int result) => (NvmlReturn)(error != 0 ? error : result);

    /// <summary>What DXGI lists, as <c>Win32DxgiAdapterSource</c> turns its calls' answers into an enumeration.</summary>
    private DxgiEnumeration Enumeration()
    {
        DxgiAnswer answer = Read<DxgiAnswer>(WinCall.GpuAdapters);
        int factory = ErrorOf(WinCall.GpuAdapters) is var error and not 0 ? error : answer.FactoryResult;
        if (factory == DxgiUnsupported)
        {
            return new DxgiEnumeration([], "CreateDXGIFactory1 returned DXGI_ERROR_UNSUPPORTED (0x887A0004): no graphics stack is available to this process", NotSupported: true);
        }

        if (factory < 0)
        {
            return new DxgiEnumeration([], Hresult("CreateDXGIFactory1 failed", factory), NotSupported: false);
        }

        int listed = (int)Math.Min(answer.Listed, DxgiSlots);
        var adapters = ImmutableArray.CreateBuilder<DxgiAdapterInfo>(listed);
        for (int i = 0; i < listed; i++)
        {
            adapters.Add(Adapter(i, answer.Adapters[i]));
        }

        string? failure = answer.EndResult is 0 or DxgiNotFound
            ? null
            : Hresult(string.Create(CultureInfo.InvariantCulture, $"IDXGIFactory1::EnumAdapters1({listed}) failed"), answer.EndResult);
        return new DxgiEnumeration(adapters.MoveToImmutable(), failure, NotSupported: false);
    }

    private static string Hresult(string what, int hr) => string.Create(CultureInfo.InvariantCulture, $"{what}: HRESULT 0x{hr:X8}");

    /// <summary><c>DXGI_ADAPTER_DESC1</c> as GetDesc1 fills it for <paramref name="adapter"/>.</summary>
    private static DxgiAdapterDesc1 Desc(DxgiAdapterInfo adapter)
    {
        DxgiAdapterDesc1 desc = default;
        Span<char> description = MemoryMarshal.Cast<byte, char>(MemoryMarshal.AsBytes(new Span<DxgiAdapterDesc1>(ref desc)))[..DxgiAdapterDesc1.DescriptionLength];
        adapter.Description.AsSpan().CopyTo(description);
        desc.VendorId = adapter.VendorId;
        desc.DeviceId = adapter.DeviceId;
        desc.DedicatedVideoMemory = (nuint)adapter.DedicatedVideoMemoryBytes;
        desc.LuidLowPart = unchecked((uint)adapter.Luid);
        desc.LuidHighPart = unchecked((int)(adapter.Luid >> 32));
        desc.Flags = adapter.Flags;
        return desc;
    }

    /// <summary>An adapter from its description, as DXGI's reader takes it: the description up to its first NUL (all 128 characters without one).</summary>
    private static DxgiAdapterInfo Adapter(int ordinal, DxgiAdapterDesc1 desc)
    {
        ReadOnlySpan<char> description = MemoryMarshal.Cast<byte, char>(MemoryMarshal.AsBytes(new ReadOnlySpan<DxgiAdapterDesc1>(in desc)))[..DxgiAdapterDesc1.DescriptionLength];
        int nul = description.IndexOf('\0');
        return new DxgiAdapterInfo(ordinal, new string(nul < 0 ? description : description[..nul]), desc.VendorId, desc.DeviceId, desc.DedicatedVideoMemory,
            GpuInstanceName.Luid(unchecked((uint)desc.LuidHighPart), desc.LuidLowPart), desc.Flags);
    }

    /// <summary>A counter array's healthy answer: these instances, then copies of them (value 0) in the spare slots, for an input that lists more.</summary>
    private static PdhArrayAnswer Counters(params (string Name, double Value)[] instances)
    {
        PdhArrayAnswer answer = default;
        answer.Listed = (uint)instances.Length;
        Span<char> pool = answer.Names;
        int next = 0;
        var starts = new ushort[instances.Length];
        for (int i = 0; i < instances.Length; i++)
        {
            starts[i] = (ushort)next;
            instances[i].Name.AsSpan().CopyTo(pool[next..]);
            next += instances[i].Name.Length;
        }

        for (int i = 0; i < PdhItemSlots; i++)
        {
            int of = i % instances.Length;
            answer.Items[i] = new PdhItemAnswer
            {
                Status = PdhStatus.ValidData,
                Value = i < instances.Length ? instances[i].Value : 0,
                NameStart = starts[of],
                NameLength = (ushort)instances[of].Name.Length,
            };
        }

        return answer;
    }

    /// <summary>The instances a counter array answer lists: each slot's status, value and name (a run of the pool, cut at its end).</summary>
    private static void Instances(PdhArrayAnswer answer, List<FakeInstance> into)
    {
        into.Clear();
        ReadOnlySpan<char> pool = answer.Names;
        for (int i = 0; i < Math.Min(answer.Listed, PdhItemSlots); i++)
        {
            PdhItemAnswer item = answer.Items[i];
            int start = Math.Min((int)item.NameStart, pool.Length);
            int length = Math.Min((int)item.NameLength, pool.Length - start);
            into.Add(new FakeInstance(new string(pool.Slice(start, length)), item.Value, item.Status));
        }
    }

    /// <summary>The NVML loader: nvml.dll, or no library and one of <see cref="NvmlLoadFailures"/>.</summary>
    private NvmlFake? LoadNvml(out string reason)
    {
        uint failure = Read<NvmlDevicesAnswer>(WinCall.NvmlDevices).LoadFailure;
        reason = failure == 0 ? NvmlLoadedFrom : NvmlLoadFailures[(failure - 1) % NvmlLoadFailures.Length];
        return failure == 0 ? _nvml : null;
    }

    /// <summary>
    /// PDH's answers: the statuses of opening the query, adding the counters, collecting and closing;
    /// the counter arrays written by the tests' <see cref="FakePdh"/> from this collection's instances,
    /// with the lies of the array's answer (<see cref="PdhArrayAnswer.Lies"/>) for that counter.
    /// </summary>
    private sealed class PdhApi(WinMachine machine) : IPdhApi
    {
        public uint OpenQuery(out nint query)
        {
            int error = machine.ErrorOf(WinCall.PdhOpen);
            machine._pdh.OpenStatus = error != 0 ? unchecked((uint)error) : machine.Read<PdhOpenAnswer>(WinCall.PdhOpen).OpenStatus;
            return machine._pdh.OpenQuery(out query);
        }

        public uint AddEnglishCounter(nint query, string path, out nint counter)
        {
            PdhOpenAnswer open = machine.Read<PdhOpenAnswer>(WinCall.PdhOpen);
            machine._pdh.AddStatus[path] = path == GpuPdhSampler.MemoryCounterPath ? open.MemoryAddStatus : open.EngineAddStatus;
            return machine._pdh.AddEnglishCounter(query, path, out counter);
        }

        public uint CollectQueryData(nint query)
        {
            uint status = machine._pdh.CollectQueryData(query);
            int error = machine.ErrorOf(WinCall.PdhCollect);
            uint answered = machine.Read<uint>(WinCall.PdhCollect);
            return error != 0 ? unchecked((uint)error) : answered != PdhStatus.Success ? answered : status;
        }

        public uint GetFormattedCounterArray(nint counter, uint format, ref uint bufferSize, out uint itemCount, nint buffer)
        {
            WinCall call = counter == FakePdh.MemoryCounter ? WinCall.PdhMemory : WinCall.PdhEngines;
            int error = machine.ErrorOf(call);
            if (error != 0)
            {
                itemCount = 0;
                return unchecked((uint)error);
            }

            PdhArrayAnswer answer = machine.Read<PdhArrayAnswer>(call);
            FakePdh pdh = machine._pdh;
            pdh.LieItemCount = (answer.Lies & PdhLieCount) != 0 ? answer.ReportedCount : null;
            pdh.LieRequiredSize = (answer.Lies & PdhLieSize) != 0 ? answer.RequiredSize : null;
            pdh.NamePointerOverride = (answer.Lies & PdhLieName) != 0 ? unchecked(buffer + (nint)answer.NameOffset) : null;
            return pdh.GetFormattedCounterArray(counter, format, ref bufferSize, out itemCount, buffer);
        }

        public uint CloseQuery(nint query)
        {
            uint status = machine._pdh.CloseQuery(query);
            uint answered = machine.Read<PdhOpenAnswer>(WinCall.PdhOpen).CloseStatus;
            return answered != PdhStatus.Success ? answered : status;
        }
    }

    /// <summary>The PDH statuses read when the probe starts (and when it closes the query): opening, adding each counter, closing.</summary>
    /// <param name="OpenStatus"><c>PdhOpenQueryW</c>'s status (a failing edit's error code replaces it).</param>
    /// <param name="EngineAddStatus"><c>PdhAddEnglishCounterW</c>'s for <c>GPU Engine</c>.</param>
    /// <param name="MemoryAddStatus"><c>PdhAddEnglishCounterW</c>'s for <c>GPU Adapter Memory</c>.</param>
    /// <param name="CloseStatus"><c>PdhCloseQuery</c>'s.</param>
    [StructLayout(LayoutKind.Sequential)]
    public readonly record struct PdhOpenAnswer(uint OpenStatus, uint EngineAddStatus, uint MemoryAddStatus, uint CloseStatus);

    /// <summary>
    /// One wildcard counter's <c>PdhGetFormattedCounterArrayW</c> answer: the instances listed (a
    /// failing edit's error code is the call's status instead) and the lies a broken PDH tells.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PdhArrayAnswer
    {
        /// <summary>How many of <see cref="Items"/> PDH lists (at most <see cref="PdhItemSlots"/>).</summary>
        public uint Listed;

        /// <summary><see cref="PdhLieCount"/>, <see cref="PdhLieSize"/>, <see cref="PdhLieName"/>.</summary>
        public uint Lies;

        /// <summary>The item count answered under <see cref="PdhLieCount"/>.</summary>
        public uint ReportedCount;

        /// <summary>The size <c>PDH_MORE_DATA</c> asks for under <see cref="PdhLieSize"/>, in bytes.</summary>
        public uint RequiredSize;

        /// <summary>Where every name pointer points under <see cref="PdhLieName"/>: bytes from the buffer's start (any value: past it, before it, odd).</summary>
        public long NameOffset;

        /// <summary>The items.</summary>
        public PdhItems Items;

        /// <summary>The characters the items' names are runs of.</summary>
        public PdhNamePool Names;
    }

    /// <summary>One instance of a counter array: its item status, value, and name as a run of the pool.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PdhItemAnswer
    {
        /// <summary>The item's <c>CStatus</c> (<c>PDH_CSTATUS_VALID_DATA</c>, <c>PDH_CSTATUS_NEW_DATA</c> or a failure).</summary>
        public uint Status;

        /// <summary>The value: percent for an engine, bytes for adapter memory.</summary>
        public double Value;

        /// <summary>The name's first character in the pool.</summary>
        public ushort NameStart;

        /// <summary>The name's length in characters (cut at the pool's end).</summary>
        public ushort NameLength;
    }

    /// <summary>The item slots of a <see cref="PdhArrayAnswer"/>.</summary>
    [InlineArray(PdhItemSlots)]
    public struct PdhItems
    {
        private PdhItemAnswer _item;
    }

    /// <summary>The name pool of a <see cref="PdhArrayAnswer"/>.</summary>
    [InlineArray(PdhNameChars)]
    public struct PdhNamePool
    {
        private char _char;
    }

    /// <summary>
    /// What DXGI answers: <c>CreateDXGIFactory1</c>'s HRESULT (a failing edit's error code replaces
    /// it), then <c>EnumAdapters1</c> and <c>GetDesc1</c> for each adapter listed, and
    /// <c>EnumAdapters1</c>'s HRESULT after the last.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct DxgiAnswer
    {
        /// <summary><c>CreateDXGIFactory1</c>'s HRESULT: <see cref="DxgiUnsupported"/> is a lasting absence, another negative one a failure.</summary>
        public int FactoryResult;

        /// <summary>How many of <see cref="Adapters"/> are listed (at most <see cref="DxgiSlots"/>).</summary>
        public uint Listed;

        /// <summary><c>EnumAdapters1</c>'s HRESULT after the last adapter listed: 0 or <see cref="DxgiNotFound"/> end the list, another fails it.</summary>
        public int EndResult;

        /// <summary>Each adapter's <c>DXGI_ADAPTER_DESC1</c>, in <c>EnumAdapters1</c>'s order.</summary>
        public DxgiAdapterDescs Adapters;
    }

    /// <summary>The adapter slots of a <see cref="DxgiAnswer"/>.</summary>
    [InlineArray(DxgiSlots)]
    public struct DxgiAdapterDescs
    {
        private DxgiAdapterDesc1 _desc;
    }

    /// <summary>
    /// What the NVML library answers when the probe lists devices: whether it loads, then
    /// <c>nvmlInit_v2</c> (a failing edit's error code replaces it), <c>nvmlDeviceGetCount_v2</c>,
    /// and each device's handle, name and MIG mode.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct NvmlDevicesAnswer
    {
        /// <summary>0: nvml.dll loads; otherwise it does not, for the reason this picks (<see cref="NvmlLoadFailures"/>).</summary>
        public uint LoadFailure;

        /// <summary><c>nvmlInit_v2</c>'s <c>nvmlReturn_t</c>.</summary>
        public int InitResult;

        /// <summary><c>nvmlDeviceGetCount_v2</c>'s <c>nvmlReturn_t</c>.</summary>
        public int CountResult;

        /// <summary>How many of <see cref="Devices"/> NVML counts (at most <see cref="NvmlSlots"/>).</summary>
        public uint Listed;

        /// <summary>Non-zero: the count answered is <see cref="ReportedCount"/>, not the devices listed.</summary>
        public uint LiesAboutCount;

        /// <summary>The count answered under <see cref="LiesAboutCount"/>.</summary>
        public uint ReportedCount;

        /// <summary>The devices.</summary>
        public NvmlDeviceAnswers Devices;
    }

    /// <summary>One NVML device as discovery reads it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct NvmlDeviceAnswer
    {
        /// <summary><c>nvmlDeviceGetHandleByIndex_v2</c>'s <c>nvmlReturn_t</c>.</summary>
        public int HandleResult;

        /// <summary><c>nvmlDeviceGetName</c>'s <c>nvmlReturn_t</c>.</summary>
        public int NameResult;

        /// <summary>The name, UTF-8 up to its NUL (without one it does not fit the buffer, and the call answers NVML_ERROR_INSUFFICIENT_SIZE).</summary>
        public NvmlName Name;

        /// <summary><c>nvmlDeviceGetMigMode</c>'s <c>nvmlReturn_t</c>.</summary>
        public int MigResult;

        /// <summary>The current MIG mode (1: enabled).</summary>
        public uint MigMode;
    }

    /// <summary>The device slots of a <see cref="NvmlDevicesAnswer"/>.</summary>
    [InlineArray(NvmlSlots)]
    public struct NvmlDeviceAnswers
    {
        private NvmlDeviceAnswer _device;
    }

    /// <summary>An NVML device name buffer (<c>NVML_DEVICE_NAME_V2_BUFFER_SIZE</c>).</summary>
    [InlineArray(NvmlConstants.DeviceNameBufferSize)]
    public struct NvmlName
    {
        private byte _byte;
    }

    /// <summary>What NVML answers for one device on every collection: each call's <c>nvmlReturn_t</c> and value, as nvml.h gives them.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct NvmlReadingAnswer
    {
        /// <summary><c>nvmlDeviceGetUtilizationRates</c>'s code.</summary>
        public int UtilizationResult;

        /// <summary><c>nvmlUtilization_t.gpu</c>, percent.</summary>
        public uint Utilization;

        /// <summary><c>nvmlDeviceGetMemoryInfo</c>'s code.</summary>
        public int MemoryResult;

        /// <summary><c>nvmlMemory_t.used</c>, bytes.</summary>
        public ulong MemoryUsed;

        /// <summary><c>nvmlMemory_t.total</c>, bytes.</summary>
        public ulong MemoryTotal;

        /// <summary><c>nvmlDeviceGetTemperature</c>'s code.</summary>
        public int TemperatureResult;

        /// <summary>The die temperature, degrees C.</summary>
        public uint Celsius;

        /// <summary><c>nvmlDeviceGetPowerUsage</c>'s code.</summary>
        public int PowerResult;

        /// <summary>The board's power, milliwatts.</summary>
        public uint Milliwatts;

        /// <summary><c>nvmlDeviceGetCurrentClocksEventReasons</c>'s code.</summary>
        public int ReasonsResult;

        /// <summary>The clock event reason bits.</summary>
        public ulong Reasons;
    }

    /// <summary>The readings of each NVML device slot (a failing edit's error code is every call's).</summary>
    [InlineArray(NvmlSlots)]
    public struct NvmlReadingsAnswer
    {
        private NvmlReadingAnswer _device;
    }
}
