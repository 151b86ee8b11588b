using System.Collections.Concurrent;
using System.Text;
using CostModel.Platforms.Gpu;
using CostModel.Telemetry;

namespace CostModel.Platforms.Tests.Gpu;

/// <summary>One GPU as the fake NVML reports it: each call's real return code and value.</summary>
internal sealed class FakeNvmlGpu
{
    public string Name { get; set; } = "NVIDIA H100 80GB HBM3";

    public NvmlReturn HandleResult { get; set; } = NvmlReturn.Success;

    public NvmlReturn NameResult { get; set; } = NvmlReturn.Success;

    public (NvmlReturn Result, uint Gpu) Utilization { get; set; } = (NvmlReturn.Success, 0);

    // 81559 MiB total (an H100 80GB HBM3); about 568 MiB used by the driver when idle.
    public (NvmlReturn Result, ulong Used, ulong Total) Memory { get; set; } = (NvmlReturn.Success, 595_853_312, 85_520_809_984);

    public (NvmlReturn Result, uint Celsius) Temperature { get; set; } = (NvmlReturn.Success, 31);

    public (NvmlReturn Result, uint Milliwatts) Power { get; set; } = (NvmlReturn.Success, 69_880);

    public (NvmlReturn Result, ulong Reasons) Reasons { get; set; } = (NvmlReturn.Success, NvmlConstants.ReasonGpuIdle);

    public (NvmlReturn Result, uint Current) Mig { get; set; } = (NvmlReturn.NotSupported, 0);
}

/// <summary>An NVML that answers from <see cref="Gpus"/>, with the real return codes; handles are index + 0x1000.</summary>
internal sealed class FakeNvml : INvmlApi
{
    private const nint HandleBase = 0x1000;
    private int _initCalls;
    private int _shutdownCalls;

    public List<FakeNvmlGpu> Gpus { get; } = [];

    public NvmlReturn InitResult { get; set; } = NvmlReturn.Success;

    public NvmlReturn CountResult { get; set; } = NvmlReturn.Success;

    /// <summary>When set, the count <c>nvmlDeviceGetCount_v2</c> answers instead of the GPUs listed (a driver that lies; the handles past the list answer NVML_ERROR_INVALID_ARGUMENT).</summary>
    public uint? ReportedCount { get; set; }

    public int InitCalls => _initCalls;

    public int ShutdownCalls => _shutdownCalls;

    public NvmlReturn Init()
    {
        Interlocked.Increment(ref _initCalls);
        return InitResult;
    }

    public NvmlReturn Shutdown()
    {
        Interlocked.Increment(ref _shutdownCalls);
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetCount(out uint count)
    {
        count = CountResult == NvmlReturn.Success ? ReportedCount ?? (uint)Gpus.Count : 0;
        return CountResult;
    }

    public NvmlReturn DeviceGetHandleByIndex(uint index, out nint device)
    {
        device = 0;
        if (index >= Gpus.Count)
        {
            return NvmlReturn.InvalidArgument;
        }

        if (Gpus[(int)index].HandleResult != NvmlReturn.Success)
        {
            return Gpus[(int)index].HandleResult;
        }

        device = HandleBase + (nint)index;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetName(nint device, Span<byte> name)
    {
        FakeNvmlGpu gpu = Gpu(device);
        if (gpu.NameResult != NvmlReturn.Success)
        {
            return gpu.NameResult;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(gpu.Name);
        if (bytes.Length + 1 > name.Length)
        {
            return NvmlReturn.InsufficientSize;
        }

        bytes.CopyTo(name);
        name[bytes.Length] = 0;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetUtilizationRates(nint device, out NvmlUtilization utilization)
    {
        (NvmlReturn result, uint gpu) = Gpu(device).Utilization;
        utilization = result == NvmlReturn.Success ? new NvmlUtilization { Gpu = gpu, Memory = gpu / 2 } : default;
        return result;
    }

    public NvmlReturn DeviceGetMemoryInfo(nint device, out NvmlMemory memory)
    {
        (NvmlReturn result, ulong used, ulong total) = Gpu(device).Memory;
        memory = result == NvmlReturn.Success ? new NvmlMemory { Total = total, Used = used, Free = total >= used ? total - used : 0 } : default;
        return result;
    }

    public NvmlReturn DeviceGetTemperature(nint device, int sensor, out uint celsius)
    {
        if (sensor != NvmlConstants.TemperatureGpu)
        {
            celsius = 0;
            return NvmlReturn.InvalidArgument;
        }

        (NvmlReturn result, celsius) = Gpu(device).Temperature;
        return result;
    }

    public NvmlReturn DeviceGetPowerUsage(nint device, out uint milliwatts)
    {
        (NvmlReturn result, milliwatts) = Gpu(device).Power;
        return result;
    }

    public NvmlReturn DeviceGetCurrentClocksEventReasons(nint device, out ulong reasons)
    {
        (NvmlReturn result, reasons) = Gpu(device).Reasons;
        return result;
    }

    public NvmlReturn DeviceGetMigMode(nint device, out uint currentMode, out uint pendingMode)
    {
        (NvmlReturn result, currentMode) = Gpu(device).Mig;
        pendingMode = currentMode;
        return result;
    }

    private FakeNvmlGpu Gpu(nint device)
    {
        int index = (int)(device - HandleBase);
        return index >= 0 && index < Gpus.Count
            ? Gpus[index]
            : throw new InvalidOperationException($"handle 0x{device:x} was never given out: the reader used a bad handle");
    }
}

/// <summary>A process runner that never starts a process: it answers from <see cref="Respond"/> and counts calls.</summary>
internal sealed class FakeProcessRunner : IProcessRunner
{
    private int _calls;

    public int Calls => _calls;

    public List<IReadOnlyList<string>> Arguments { get; } = [];

    /// <summary>What the next run does; the token is the run's cancellation token.</summary>
    public Func<IReadOnlyList<string>, CancellationToken, Task<ProcessOutput>> Respond { get; set; } =
        (_, _) => Task.FromResult(new ProcessOutput(0, "", ""));

    public int Killed { get; private set; }

    public Task<ProcessOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, int maxOutputChars, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        lock (Arguments)
        {
            Arguments.Add(arguments);
        }

        return Respond(arguments, cancellationToken);
    }

    /// <summary>A run that never ends by itself: it ends, "killed", when its token is cancelled.</summary>
    public Task<ProcessOutput> Hang(CancellationToken token)
    {
        var done = new TaskCompletionSource<ProcessOutput>();
        token.Register(() =>
        {
            Killed++;
            done.TrySetCanceled(token);
        });
        return done.Task;
    }
}
