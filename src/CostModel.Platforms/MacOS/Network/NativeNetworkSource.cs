using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// The network probe's OS calls on macOS: the SystemConfiguration dynamic store (one session,
/// created once, kept), <c>if_nametoindex</c> and <c>sysctl NET_RT_IFLIST2</c> from libSystem.
/// No subprocess (scutil, netstat), no privileges. Calls only; the logic is <see cref="MacNetworkReader"/>.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe partial class NativeNetworkSource : IMacNetworkSource, IDisposable
{
    /// <summary>The SystemConfiguration framework binary.</summary>
    internal const string SystemConfigurationLibrary = "/System/Library/Frameworks/SystemConfiguration.framework/SystemConfiguration";

    /// <summary>libSystem: sysctl, if_nametoindex, libdispatch and the blocks runtime.</summary>
    internal const string LibSystem = "/usr/lib/libSystem.B.dylib";

    /// <summary><c>CTL_NET</c> (<c>&lt;sys/sysctl.h&gt;</c>).</summary>
    internal const int CtlNet = 4;

    /// <summary><c>PF_ROUTE</c> (<c>&lt;sys/socket.h&gt;</c>): <c>AF_ROUTE</c>, 17.</summary>
    internal const int PfRoute = 17;

    /// <summary><c>NET_RT_IFLIST2</c> (<c>&lt;sys/socket.h&gt;</c>): the interface list with <c>if_msghdr2</c> and 64-bit counters.</summary>
    internal const int NetRtIfList2 = 6;

    /// <summary>The name configd shows for this session (<c>scutil</c>'s "list" of sessions).</summary>
    private const string SessionName = "CostModel.macos.network";

    /// <summary><c>kSCStatusNoKey</c> (<c>&lt;SystemConfiguration/SCError.h&gt;</c>): the key has no value.</summary>
    internal const int StatusNoKey = 1004;

    /// <summary><c>kSCStatusNoStoreSession</c>: the session is gone (configd restarted).</summary>
    internal const int StatusNoStoreSession = 2001;

    /// <summary><c>kSCStatusNoStoreServer</c>: configd is not running.</summary>
    internal const int StatusNoStoreServer = 2002;

    private nint _store;
    private bool _disposed;

    /// <summary>Opens the dynamic-store session; throws <see cref="IOException"/> with <c>SCError()</c> when configd refuses it.</summary>
    public NativeNetworkSource() => _store = CreateStore();

    public IReadOnlyDictionary<string, object>? CopyStoreValue(string key)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_store == 0)
        {
            // The previous session died with configd: open a new one (throws while configd is down).
            _store = CreateStore();
        }

        nint cfKey = CfConvert.CreateString(key);
        nint value;
        try
        {
            value = SCDynamicStoreCopyValue(_store, cfKey);
        }
        finally
        {
            CoreFoundation.CFRelease(cfKey);
        }

        if (value == 0)
        {
            // NULL is both "no such key" and a failure; SCError() tells them apart.
            int status = SCError();
            if (status is 0 or StatusNoKey)
            {
                return null;
            }

            if (status is StatusNoStoreSession or StatusNoStoreServer)
            {
                CoreFoundation.CFRelease(_store);
                _store = 0;
            }

            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"SCDynamicStoreCopyValue failed: SCError {status}"));
        }

        try
        {
            return CfConvert.ToDictionary(value);
        }
        finally
        {
            CoreFoundation.CFRelease(value);
        }
    }

    public uint InterfaceIndex(string name) => IfNameToIndex(name);

    public int QueryInterfaceList(Span<byte> destination, out nuint length)
    {
        int* mib = stackalloc int[] { CtlNet, PfRoute, 0, 0, NetRtIfList2, 0 };
        nuint size = (nuint)destination.Length;
        int result;
        fixed (byte* buffer = destination)
        {
            result = Sysctl(mib, 6, destination.IsEmpty ? null : buffer, &size, null, 0);
        }

        length = size;
        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public void Dispose()
    {
        _disposed = true;
        if (_store != 0)
        {
            CoreFoundation.CFRelease(_store);
            _store = 0;
        }
    }

    private static nint CreateStore()
    {
        nint name = CfConvert.CreateString(SessionName);
        nint store;
        try
        {
            store = SCDynamicStoreCreate(0, name, 0, 0);
        }
        finally
        {
            CoreFoundation.CFRelease(name);
        }

        return store != 0
            ? store
            : throw new IOException(string.Create(CultureInfo.InvariantCulture, $"SCDynamicStoreCreate failed: SCError {SCError()}"));
    }

    [LibraryImport(SystemConfigurationLibrary)]
    private static partial nint SCDynamicStoreCreate(nint allocator, nint name, nint callout, nint context);

    /// <summary>A new reference (release it), or 0 when the key has no value or the call failed.</summary>
    [LibraryImport(SystemConfigurationLibrary)]
    private static partial nint SCDynamicStoreCopyValue(nint store, nint key);

    /// <summary>The status of the last SystemConfiguration call on this thread.</summary>
    [LibraryImport(SystemConfigurationLibrary)]
    private static partial int SCError();

    [LibraryImport(LibSystem, EntryPoint = "sysctl", SetLastError = true)]
    private static partial int Sysctl(int* name, uint nameLength, void* oldValue, nuint* oldLength, void* newValue, nuint newLength);

    [LibraryImport(LibSystem, EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint IfNameToIndex(string name);
}
