using System.Net.Sockets;
using CostModel.Platforms.Windows.Network;

namespace CostModel.Platforms.Windows.Tests.Network;

/// <summary>IP Helper answers from raw rows set by the test.</summary>
internal sealed class FakeNetworkApi : IWindowsNetworkApi
{
    public const uint ErrorNetworkUnreachable = 1231;

    private readonly Dictionary<uint, MibIfRow2> _rows = [];

    public uint IPv4Error { get; set; }

    public uint IPv4Index { get; set; }

    public uint IPv6Error { get; set; } = ErrorNetworkUnreachable;

    public uint IPv6Index { get; set; }

    /// <summary>Errors GetIfEntry2 answers for an index instead of its row.</summary>
    public Dictionary<uint, uint> EntryErrors { get; } = [];

    public int RouteLookups { get; private set; }

    public int EntryReads { get; private set; }

    public static MibIfRow2 Row(uint index, string alias, ulong inOctets = 0, ulong outOctets = 0, ulong luid = 0, uint type = 6, ulong linkSpeed = 1_000_000_000)
    {
        var row = default(MibIfRow2);
        row.InterfaceIndex = index;
        row.InterfaceLuid = luid == 0 ? (ulong)type << 48 | index : luid;
        row.SetAlias(alias);
        row.SetDescription("Fake Adapter");
        row.Type = type;
        row.OperStatus = 1;
        row.InOctets = inOctets;
        row.OutOctets = outOctets;
        row.ReceiveLinkSpeed = linkSpeed;
        row.TransmitLinkSpeed = linkSpeed;
        return row;
    }

    /// <summary>Adds or replaces an interface and makes it the IPv4 route's.</summary>
    public void Route(MibIfRow2 row)
    {
        Set(row);
        IPv4Error = 0;
        IPv4Index = row.InterfaceIndex;
    }

    public void Set(MibIfRow2 row) => _rows[row.InterfaceIndex] = row;

    public void Counters(uint index, ulong inOctets, ulong outOctets)
    {
        MibIfRow2 row = _rows[index];
        row.InOctets = inOctets;
        row.OutOctets = outOctets;
        _rows[index] = row;
    }

    public uint GetBestInterface(AddressFamily family, out uint interfaceIndex)
    {
        RouteLookups++;
        (uint error, interfaceIndex) = family == AddressFamily.InterNetworkV6 ? (IPv6Error, IPv6Index) : (IPv4Error, IPv4Index);
        return error;
    }

    public uint GetIfEntry(ref MibIfRow2 row)
    {
        EntryReads++;
        if (EntryErrors.TryGetValue(row.InterfaceIndex, out uint error))
        {
            return error;
        }

        if (!_rows.TryGetValue(row.InterfaceIndex, out MibIfRow2 found))
        {
            return 2; // ERROR_FILE_NOT_FOUND
        }

        row = found;
        return 0;
    }
}

/// <summary>The Network List Manager's cost interface, answering what the test sets.</summary>
internal sealed class FakeCostApi : INetworkCostApi
{
    public int CreateResult { get; set; }

    public int GetCostResult { get; set; }

    public uint Cost { get; set; } = NetworkCost.Unrestricted;

    public int Creates { get; private set; }

    public int Calls { get; private set; }

    public int Releases { get; private set; }

    public bool Disposed { get; private set; }

    public bool IsCreated { get; private set; }

    public int Create()
    {
        Creates++;
        IsCreated = CreateResult >= 0;
        return CreateResult;
    }

    public int GetCost(out uint cost)
    {
        Calls++;
        cost = GetCostResult >= 0 ? Cost : 0;
        return GetCostResult;
    }

    public void Release()
    {
        Releases++;
        IsCreated = false;
    }

    public void Dispose() => Disposed = true;
}
