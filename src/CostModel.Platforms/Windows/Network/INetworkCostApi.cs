namespace CostModel.Platforms.Windows.Network;

/// <summary>
/// The Network List Manager's cost interface, raw: HRESULTs and the NLM_CONNECTION_COST flags.
/// The real one is <see cref="NetworkCostManagerApi"/>; tests fake it to drive creation failures,
/// call failures and every flag combination. Called from the metered monitor's refresh only,
/// never from the collection path, one call at a time.
/// </summary>
internal interface INetworkCostApi : IDisposable
{
    /// <summary>True while a cost manager object is held (created and not released since).</summary>
    bool IsCreated { get; }

    /// <summary>Creates the cost manager object (once; it is kept until <see cref="Release"/>).</summary>
    /// <returns>S_OK, or the failing HRESULT (creation, or the apartment set-up before it).</returns>
    int Create();

    /// <summary><c>INetworkCostManager::GetCost(&amp;cost, NULL)</c>: the cost of the machine's preferred internet connection.</summary>
    /// <param name="cost">The NLM_CONNECTION_COST flags when the call succeeds.</param>
    /// <returns>An HRESULT.</returns>
    int GetCost(out uint cost);

    /// <summary>Releases the object (after a failed call: the next <see cref="Create"/> makes a new one).</summary>
    void Release();
}

/// <summary>The HRESULTs the cost path tells apart (winerror.h).</summary>
internal static class ComResults
{
    /// <summary>RPC_E_CHANGED_MODE: the thread is already in another apartment (a single-threaded one).</summary>
    public const int RpcEChangedMode = unchecked((int)0x80010106);

    /// <summary>CO_E_NOTINITIALIZED: no object (or no apartment) to call.</summary>
    public const int CoENotInitialized = unchecked((int)0x800401F0);
}
