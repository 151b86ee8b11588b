using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// <c>INetworkCostManager</c> of the Network List Manager (CLSID_NetworkListManager) through a
/// source-generated COM interface and <see cref="StrategyBasedComWrappers"/>: no built-in COM
/// interop, AOT-clean.
/// </summary>
/// <remarks>
/// Apartments: the object is created and called in the multithreaded apartment (MTA) only. Each
/// call enters the MTA with <c>CoInitializeEx(COINIT_MULTITHREADED)</c> and leaves it with a
/// balanced <c>CoUninitialize</c>; a thread already in a single-threaded apartment answers
/// RPC_E_CHANGED_MODE, and then nothing is called on it and its apartment is left untouched (no
/// <c>CoUninitialize</c> for a call that did not initialise), so a host that initialised COM its
/// own way is never disturbed. <c>CoIncrementMTAUsage</c> keeps the MTA alive while the object is
/// held, so that the last thread leaving the MTA between two refreshes does not destroy it.
/// </remarks>
[SupportedOSPlatform("windows")]
internal sealed partial class NetworkCostManagerApi : INetworkCostApi
{
    /// <summary>CLSID_NetworkListManager (netlistmgr.h).</summary>
    internal static readonly Guid ClsidNetworkListManager = new("DCB00C01-570F-4A9B-8D69-199FDBA5723B");

    /// <summary>IID_INetworkCostManager (netlistmgr.h).</summary>
    internal static readonly Guid IidNetworkCostManager = new("DCB00008-570F-4A9B-8D69-199FDBA5723B");

    private const uint CoinitMultithreaded = 0x0;

    // CLSCTX_INPROC_SERVER | CLSCTX_LOCAL_SERVER: netprofm.dll is an in-process server; local kept for completeness.
    private const uint ClsctxServer = 0x1 | 0x4;

    private readonly StrategyBasedComWrappers _wrappers = new();
    private INetworkCostManager? _manager;
    private nint _mtaCookie;

    public bool IsCreated => _manager is not null;

    public int Create()
    {
        if (_manager is not null)
        {
            return 0;
        }

        return InMta(this, static self => self.CreateInMta());
    }

    public int GetCost(out uint cost)
    {
        cost = 0;
        if (_manager is not { } manager)
        {
            return ComResults.CoENotInitialized;
        }

        uint value = 0;
        int hr = InMta(manager, m => m.GetCost(out value, 0));
        cost = value;
        return hr;
    }

    public void Release()
    {
        if ((object?)_manager is ComObject com)
        {
            // Released from the MTA like every other call; a host's STA thread (disposing the
            // container) releases it directly rather than leaking it.
            if (InMta(com, static c => { c.FinalRelease(); return 0; }) == ComResults.RpcEChangedMode)
            {
                com.FinalRelease();
            }
        }

        _manager = null;
        if (_mtaCookie != 0)
        {
            _ = CoDecrementMTAUsage(_mtaCookie);
            _mtaCookie = 0;
        }
    }

    public void Dispose() => Release();

    /// <summary>Runs <paramref name="call"/> with this thread in the MTA, or returns RPC_E_CHANGED_MODE without calling it on a single-threaded apartment's thread.</summary>
    internal static int InMta<T>(T state, Func<T, int> call)
    {
        int init = CoInitializeEx(0, CoinitMultithreaded);
        if (init < 0)
        {
            // RPC_E_CHANGED_MODE: an STA thread; anything else: COM cannot start. Nothing to undo.
            return init;
        }

        try
        {
            return call(state);
        }
        finally
        {
            // S_OK and S_FALSE both take a reference on this thread's COM use; give it back.
            CoUninitialize();
        }
    }

    private int CreateInMta()
    {
        if (_mtaCookie == 0)
        {
            int usage;
            try
            {
                usage = CoIncrementMTAUsage(out _mtaCookie);
            }
            catch (EntryPointNotFoundException)
            {
                // Before Windows 8: no way to pin the MTA; create without it (refreshes still enter the MTA).
                usage = 0;
                _mtaCookie = 0;
            }

            if (usage < 0)
            {
                _mtaCookie = 0;
                return usage;
            }
        }

        int hr = CoCreateInstance(ClsidNetworkListManager, 0, ClsctxServer, IidNetworkCostManager, out nint unknown);
        if (hr < 0 || unknown == 0)
        {
            return hr < 0 ? hr : ComResults.CoENotInitialized;
        }

        try
        {
            // UniqueInstance: the wrapper is ours alone, so Release can free it deterministically.
            _manager = (INetworkCostManager)_wrappers.GetOrCreateObjectForComInstance(unknown, CreateObjectFlags.UniqueInstance);
        }
        finally
        {
            // The wrapper holds its own reference.
            _ = Marshal.Release(unknown);
        }

        return 0;
    }

    [LibraryImport("ole32.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int CoInitializeEx(nint reserved, uint coInit);

    [LibraryImport("ole32.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial void CoUninitialize();

    [LibraryImport("ole32.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int CoIncrementMTAUsage(out nint cookie);

    [LibraryImport("ole32.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int CoDecrementMTAUsage(nint cookie);

    [LibraryImport("ole32.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int CoCreateInstance(in Guid clsid, nint outer, uint context, in Guid iid, out nint instance);
}

/// <summary>
/// INetworkCostManager (netlistmgr.h), source-generated. Only the first method is declared: the
/// vtable's order is what matters, and the later ones (GetDataPlanStatus,
/// SetDestinationAddresses) are not called.
/// </summary>
[GeneratedComInterface]
[Guid("DCB00008-570F-4A9B-8D69-199FDBA5723B")]
internal partial interface INetworkCostManager
{
    /// <summary>HRESULT GetCost(DWORD *pCost, NLM_SOCKADDR *pDestIPAddr); a null destination asks for the machine's preferred internet connection.</summary>
    [PreserveSig]
    int GetCost(out uint cost, nint destination);
}
