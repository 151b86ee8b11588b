namespace CostModel.Routing;

/// <summary>
/// The leases in flight, in a fixed array of slots with generations (a lease handle is a slot and
/// a generation: no allocation per request). A lease released twice, or after it expired, is ignored.
/// </summary>
internal sealed class LeaseTable
{
    private readonly Lock _gate = new();
    private const int InitialSlots = 256;

    private readonly Stack<int> _free = new();
    private readonly List<(TargetState Target, LeaseInfo Info)> _expired = [];
    private readonly Action<TargetState, LeaseInfo, RouteOutcome?> _released;
    private readonly int _capacity;
    private Slot[] _slots = [];
    private int _active;

    /// <summary>Creates a table that grows by doubling up to <paramref name="capacity"/> slots.</summary>
    public LeaseTable(int capacity, Action<TargetState, LeaseInfo, RouteOutcome?> released)
    {
        _capacity = capacity;
        _released = released;
    }

    public int Active => Volatile.Read(ref _active);

    public bool TryAcquire(TargetState target, in LeaseInfo info, out RouteLease lease)
    {
        lock (_gate)
        {
            if (!_free.TryPop(out int slot))
            {
                if (_slots.Length >= _capacity)
                {
                    lease = default;
                    return false;
                }

                int grown = Math.Min(_capacity, Math.Max(InitialSlots, _slots.Length * 2));
                Slot[] larger = new Slot[grown];
                _slots.CopyTo(larger, 0);
                for (int i = grown - 1; i > _slots.Length; i--)
                {
                    _free.Push(i);
                }

                slot = _slots.Length;
                _slots = larger;
            }

            ref Slot s = ref _slots[slot];
            s.Generation++;
            s.Target = target;
            s.Info = info;
            _active++;
            lease = new RouteLease(this, slot, s.Generation);
        }

        target.Placed();
        return true;
    }

    public bool Complete(int slot, int generation, RouteOutcome outcome) => Finish(slot, generation, outcome);

    public void Release(int slot, int generation) => Finish(slot, generation, null);

    /// <summary>Releases every lease whose deadline passed (no outcome is learned); returns how many.</summary>
    public int Expire(long now)
    {
        lock (_gate)
        {
            _expired.Clear();
            for (int i = 0; i < _slots.Length; i++)
            {
                ref Slot s = ref _slots[i];
                if (s.Target is not null && s.Info.Deadline <= now)
                {
                    _expired.Add((s.Target, s.Info));
                    Free(i, ref s);
                }
            }

            foreach ((TargetState target, LeaseInfo _) in _expired)
            {
                target.Released();
            }

            return _expired.Count;
        }
    }

    private bool Finish(int slot, int generation, RouteOutcome? outcome)
    {
        TargetState target;
        LeaseInfo info;
        lock (_gate)
        {
            if ((uint)slot >= (uint)_slots.Length)
            {
                return false;
            }

            ref Slot s = ref _slots[slot];
            if (s.Generation != generation || s.Target is null)
            {
                return false;
            }

            target = s.Target;
            info = s.Info;
            Free(slot, ref s);
        }

        target.Released();
        _released(target, info, outcome);
        return true;
    }

    private void Free(int slot, ref Slot s)
    {
        s.Target = null;
        s.Info = default;
        _active--;
        _free.Push(slot);
    }

    private struct Slot
    {
        public int Generation;
        public TargetState? Target;
        public LeaseInfo Info;
    }
}

/// <summary>What a lease remembers from its decision.</summary>
/// <param name="Deadline">When it expires (TimeProvider timestamp).</param>
/// <param name="OverheadSeconds">Predicted non-decode time (network and prefill), subtracted before learning decode speed.</param>
/// <param name="ApiDollars">The API money predicted, recorded against spend caps on success.</param>
/// <param name="OtherMoneyDollars">Energy and metered traffic predicted, recorded against "all money" caps on success.</param>
internal readonly record struct LeaseInfo(long Deadline, double OverheadSeconds, double ApiDollars, double OtherMoneyDollars);
