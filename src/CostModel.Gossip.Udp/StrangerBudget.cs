using System.Net;

namespace CostModel.Gossip.Udp;

/// <summary>What a <see cref="StrangerBudget"/> answered.</summary>
internal enum BudgetVerdict
{
    /// <summary>Within both budgets: taken from each.</summary>
    Granted,

    /// <summary>The IP address's own budget is spent.</summary>
    AddressSpent,

    /// <summary>The address had budget left, but the budget all strangers share is spent.</summary>
    OverallSpent,
}

/// <summary>
/// The budget for traffic with strangers (addresses that are not gossip peers): a token bucket per
/// IP address, so one source (from any number of ports) cannot take everything, in front of one
/// bucket all strangers share, so many sources together cannot either. Used for datagrams received
/// and for bytes sent. Remembers at most <see cref="MaxAddresses"/> addresses. Thread-safe.
/// </summary>
internal sealed class StrangerBudget
{
    /// <summary>
    /// 4,096 addresses, as many as the transport's default peer table and the adapter's sync-reply
    /// limiter remember. When full, the buckets that have refilled (no different from new ones) are
    /// dropped, and if none has, all are: a flood of forged addresses then costs fresh per-address
    /// bursts, still held by the shared bucket, never memory.
    /// </summary>
    internal const int MaxAddresses = 4_096;

    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, TokenBucket> _byAddress = [];
    private readonly UdpRateLimit _perAddress;
    private readonly TokenBucket _overall;
    private readonly TimeProvider _time;

    public StrangerBudget(UdpRateLimit perAddress, UdpRateLimit overall, TimeProvider time)
    {
        _perAddress = perAddress;
        _overall = new TokenBucket(overall, time);
        _time = time;
    }

    /// <summary>How many addresses have a bucket now.</summary>
    public int Addresses
    {
        get
        {
            lock (_gate)
            {
                return _byAddress.Count;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="amount"/> from <paramref name="address"/>'s bucket, then from the shared
    /// one; when the shared one refuses, the address gets its tokens back (only what passes costs).
    /// </summary>
    /// <param name="address">The stranger's IP address (an IPv4-mapped IPv6 address written as IPv4, so both forms share a bucket).</param>
    /// <param name="amount">Datagrams or bytes, in the limits' unit.</param>
    public BudgetVerdict TryTake(IPAddress address, double amount)
    {
        lock (_gate)
        {
            if (!_byAddress.TryGetValue(address, out TokenBucket? bucket))
            {
                if (_byAddress.Count >= MaxAddresses)
                {
                    ForgetAddresses();
                }

                bucket = new TokenBucket(_perAddress, _time);
                _byAddress.Add(address, bucket);
            }

            if (!bucket.TryTake(amount))
            {
                return BudgetVerdict.AddressSpent;
            }

            if (!_overall.TryTake(amount))
            {
                bucket.Return(amount);
                return BudgetVerdict.OverallSpent;
            }

            return BudgetVerdict.Granted;
        }
    }

    private void ForgetAddresses()
    {
        List<IPAddress>? refilled = null;
        foreach ((IPAddress address, TokenBucket bucket) in _byAddress)
        {
            if (bucket.IsFull())
            {
                (refilled ??= []).Add(address);
            }
        }

        if (refilled is null)
        {
            _byAddress.Clear();
            return;
        }

        foreach (IPAddress address in refilled)
        {
            _byAddress.Remove(address);
        }
    }
}
