using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

/// <summary>
/// Stands in for the OS in the network probe's tests: the dynamic store as a dictionary of keys
/// to recorded values, interface indexes by name, and the <c>sysctl NET_RT_IFLIST2</c> contract
/// (a size query with an empty destination; <c>ENOMEM</c> when the destination is too small).
/// </summary>
internal sealed class FakeNetworkSource : IMacNetworkSource
{
    public Dictionary<string, IReadOnlyDictionary<string, object>> Store { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, uint> Indexes { get; } = new(StringComparer.Ordinal);

    public byte[] List { get; set; } = [];

    /// <summary>Thrown by <see cref="CopyStoreValue"/> when set.</summary>
    public Exception? StoreFailure { get; set; }

    /// <summary>Returned by every <c>sysctl</c> when not 0.</summary>
    public int Errno { get; set; }

    /// <summary>What a size query answers, when not the list's length.</summary>
    public nuint? ClaimedSize { get; set; }

    /// <summary>Every list query fails with <c>ENOMEM</c>.</summary>
    public bool AlwaysTooSmall { get; set; }

    /// <summary>A successful query claims one byte more than the buffer holds.</summary>
    public bool OverstateWritten { get; set; }

    public int SizeQueries { get; private set; }

    public int ListQueries { get; private set; }

    public int StoreReads { get; private set; }

    public IReadOnlyDictionary<string, object>? CopyStoreValue(string key)
    {
        StoreReads++;
        if (StoreFailure is { } failure)
        {
            throw failure;
        }

        return Store.GetValueOrDefault(key);
    }

    public uint InterfaceIndex(string name) => Indexes.GetValueOrDefault(name);

    public int QueryInterfaceList(Span<byte> destination, out nuint length)
    {
        if (destination.IsEmpty)
        {
            SizeQueries++;
            length = ClaimedSize ?? (nuint)List.Length;
            return Errno;
        }

        ListQueries++;
        length = 0;
        if (Errno != 0)
        {
            return Errno;
        }

        if (AlwaysTooSmall || destination.Length < List.Length)
        {
            return InterfaceListBuffer.ENoMem;
        }

        List.CopyTo(destination);
        length = OverstateWritten ? (nuint)destination.Length + 1 : (nuint)List.Length;
        return 0;
    }
}
