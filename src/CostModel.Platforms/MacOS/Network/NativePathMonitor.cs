using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Telemetry;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// A Network.framework path monitor for the default route (<c>nw_path_monitor_create</c>),
/// created once, delivering updates on a serial dispatch queue of its own, cancelled on
/// <see cref="Dispose"/>. Each update stores one immutable <see cref="PathUpdate"/> that the
/// collector reads; nothing blocks and nothing is asked on the collection path.
/// </summary>
/// <remarks>
/// The update handler is a block (<c>void (^)(nw_path_t)</c>). .NET has no block support, so the
/// block literal is built here (<see cref="BlockLiteral"/>) as a global block whose
/// <c>invoke</c> is an <see cref="UnmanagedCallersOnlyAttribute"/> function; it carries the
/// monitor's id, which the function looks up in <see cref="Monitors"/>. A disposed monitor's id is
/// gone from the table, so a late update is ignored. The literal (40 bytes) is never freed:
/// Network.framework holds it until the cancelled monitor is destroyed, at a time it does not
/// report, exactly as a compiler-emitted global block lives for the whole process. One monitor is
/// made per probe, and one probe per process.
/// </remarks>
[SupportedOSPlatform("macos")]
internal sealed unsafe partial class NativePathMonitor : IMacPathMonitor
{
    /// <summary>The Network.framework binary.</summary>
    internal const string NetworkLibrary = "/System/Library/Frameworks/Network.framework/Network";

    /// <summary>The dispatch queue's label (shown in crash reports and Instruments).</summary>
    private const string QueueLabel = "CostModel.macos.network.path";

    /// <summary>The Objective-C type encoding of <c>void (^)(nw_path_t)</c>: returns void, takes the block and an object.</summary>
    private const string HandlerSignature = "v16@?0@\"NSObject<OS_nw_path>\"8";

    private static readonly ConcurrentDictionary<nint, NativePathMonitor> Monitors = new();
    private static readonly Lazy<nint> SharedDescriptor = new(CreateDescriptor);
    private static long _nextId;

    private readonly TimeProvider _timeProvider;
    private readonly IProbeFailureReporter _failures;
    private readonly nint _id;
    private nint _queue;
    private nint _monitor;
    private PathUpdate? _latest;

    /// <summary>Creates and starts the monitor; throws when Network.framework or libdispatch cannot be reached.</summary>
    public NativePathMonitor(TimeProvider timeProvider, IProbeFailureReporter failures)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(failures);
        _timeProvider = timeProvider;
        _failures = failures;
        _id = (nint)Interlocked.Increment(ref _nextId);

        nint globalBlockClass = NativeLibrary.GetExport(NativeLibrary.Load(NativeNetworkSource.LibSystem), "_NSConcreteGlobalBlock");
        _queue = DispatchQueueCreate(QueueLabel, 0);
        if (_queue == 0)
        {
            throw new InvalidOperationException("dispatch_queue_create returned NULL");
        }

        _monitor = PathMonitorCreate();
        if (_monitor == 0)
        {
            DispatchRelease(_queue);
            _queue = 0;
            throw new InvalidOperationException("nw_path_monitor_create returned NULL");
        }

        // Allocated only once nothing can fail any more, so that a failed start leaks nothing.
        var block = (BlockLiteral*)NativeMemory.AllocZeroed((nuint)sizeof(BlockLiteral));
        block->Isa = globalBlockClass;
        block->Flags = BlockLiteral.BlockIsGlobal | BlockLiteral.BlockHasSignature;
        block->Invoke = (nint)(delegate* unmanaged<BlockLiteral*, nint, void>)&OnUpdate;
        block->Descriptor = SharedDescriptor.Value;
        block->Context = _id;

        Monitors[_id] = this;
        PathMonitorSetQueue(_monitor, _queue);
        PathMonitorSetUpdateHandler(_monitor, block);
        PathMonitorStart(_monitor);
    }

    public PathUpdate? Latest => Volatile.Read(ref _latest);

    public void Dispose()
    {
        if (_monitor == 0)
        {
            return;
        }

        _ = Monitors.TryRemove(_id, out _);
        PathMonitorCancel(_monitor);
        NwRelease(_monitor);
        _monitor = 0;
        DispatchRelease(_queue);
        _queue = 0;
    }

    /// <summary>The block's invoke function, on the monitor's dispatch queue. <paramref name="path"/> is borrowed: not retained, not kept.</summary>
    [UnmanagedCallersOnly]
    private static void OnUpdate(BlockLiteral* block, nint path)
    {
        if (!Monitors.TryGetValue(block->Context, out NativePathMonitor? monitor))
        {
            return;
        }

        try
        {
            var update = new PathUpdate(
                PathGetStatus(path),
                PathIsExpensive(path) != 0,
                PathIsConstrained(path) != 0,
                monitor._timeProvider.GetUtcNow());
            Volatile.Write(ref monitor._latest, update);
        }
#pragma warning disable CA1031 // An exception must not cross into native code (it would end the process): it is reported, and the previous update stands.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            monitor._failures.Report(MacNetworkReader.ProbeName, "io", $"path update handler failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>The descriptor all our handler blocks share, with its signature; allocated once, never freed.</summary>
    private static nint CreateDescriptor()
    {
        byte* signature = (byte*)Marshal.StringToCoTaskMemUTF8(HandlerSignature);
        var descriptor = (BlockDescriptor*)NativeMemory.AllocZeroed((nuint)sizeof(BlockDescriptor));
        descriptor->Reserved = 0;
        descriptor->Size = (nuint)Unsafe.SizeOf<BlockLiteral>();
        descriptor->Signature = (nint)signature;
        return (nint)descriptor;
    }

    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_monitor_create")]
    private static partial nint PathMonitorCreate();

    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_monitor_set_queue")]
    private static partial void PathMonitorSetQueue(nint monitor, nint queue);

    /// <summary>Copies the block (a global block: the same pointer) and calls it with each new path.</summary>
    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_monitor_set_update_handler")]
    private static partial void PathMonitorSetUpdateHandler(nint monitor, BlockLiteral* handler);

    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_monitor_start")]
    private static partial void PathMonitorStart(nint monitor);

    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_monitor_cancel")]
    private static partial void PathMonitorCancel(nint monitor);

    /// <summary><c>nw_path_status_t</c>, a C enum (<c>int</c>).</summary>
    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_get_status")]
    private static partial int PathGetStatus(nint path);

    /// <summary>C <c>bool</c>: one byte.</summary>
    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_is_expensive")]
    private static partial byte PathIsExpensive(nint path);

    /// <summary>C <c>bool</c>: one byte. macOS 10.15 and later.</summary>
    [LibraryImport(NetworkLibrary, EntryPoint = "nw_path_is_constrained")]
    private static partial byte PathIsConstrained(nint path);

    [LibraryImport(NetworkLibrary, EntryPoint = "nw_release")]
    private static partial void NwRelease(nint obj);

    /// <summary>A serial queue (<c>attr</c> NULL = <c>DISPATCH_QUEUE_SERIAL</c>).</summary>
    [LibraryImport(NativeNetworkSource.LibSystem, EntryPoint = "dispatch_queue_create", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DispatchQueueCreate(string label, nint attributes);

    [LibraryImport(NativeNetworkSource.LibSystem, EntryPoint = "dispatch_release")]
    private static partial void DispatchRelease(nint obj);
}
