using CostModel.Budgets;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// The leases in flight, in a fixed array of slots with generations (a lease handle is a slot and
/// a generation: no allocation per request). A lease released twice, or after it expired, is ignored.
/// Each lease owns its request's spend reservation (<see cref="LeaseInfo.Spend"/>, reserved by the
/// router when it placed the request): settled with the actual cost when the lease completes,
/// released when it is disposed or expires, or at once when no lease could be taken; exactly once.
/// </summary>
internal sealed class LeaseTable
{
    private readonly SpinGate _gate = new();
    private const int InitialSlots = 256;

    private readonly Stack<int> _free = new();
    private readonly List<(TargetState Target, LeaseInfo Info)> _expired = [];
    private readonly Action<TargetState, LeaseInfo, RouteOutcome> _completed;
    private readonly SpendTracker? _spend;
    private readonly int _capacity;
    private Slot[] _slots = [];
    private int _active;

    /// <summary>Creates a table that grows by doubling up to <paramref name="capacity"/> slots.</summary>
    /// <param name="capacity">The most leases in flight.</param>
    /// <param name="completed">Called after a lease is completed with an outcome, outside the gate (not when it is disposed or expires: nothing is known then, and a disposed lease costs no call and no copy of its record).</param>
    /// <param name="spend">The spend tracker that holds the leases' reservations; null for none.</param>
    public LeaseTable(int capacity, Action<TargetState, LeaseInfo, RouteOutcome> completed, SpendTracker? spend = null)
    {
        _capacity = capacity;
        _completed = completed;
        _spend = spend;
    }

    public int Active => Volatile.Read(ref _active);

    /// <summary>Takes a lease for a request placed on <paramref name="target"/>, which then owns its spend reservation; false when the table is full (the reservation is released).</summary>
    public bool TryAcquire(TargetState target, in LeaseInfo info, out RouteLease lease)
    {
        using (_gate.Enter())
        {
            if (!_free.TryPop(out int slot))
            {
                if (_slots.Length >= _capacity)
                {
                    // Untracked work: no completion will come to settle it.
                    _spend?.Release(info.Spend);
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

    /// <summary>Completes a lease with its outcome: its reservation is settled with the actual cost and the outcome learned from; false when it was already finished.</summary>
    public bool Complete(int slot, int generation, RouteOutcome outcome)
    {
        TargetState target;
        LeaseInfo info;
        using (_gate.Enter())
        {
            if (!IsLive(slot, generation))
            {
                return false;
            }

            ref Slot s = ref _slots[slot];
            target = s.Target!;
            info = s.Info;
            Free(slot, ref s);
        }

        _spend?.Settle(info.Spend, info.Spend.ActualApiDollars(in outcome), info.Spend.ActualOtherMoneyDollars(in outcome));
        target.Released();
        _completed(target, info, outcome);
        return true;
    }

    /// <summary>
    /// Releases a lease without an outcome (disposed): its reservation is released and nothing is
    /// learned, so only the reservation is copied out of the record, not the whole of it.
    /// </summary>
    public void Release(int slot, int generation)
    {
        TargetState target;
        SpendReservation spend;
        using (_gate.Enter())
        {
            if (!IsLive(slot, generation))
            {
                return;
            }

            ref Slot s = ref _slots[slot];
            target = s.Target!;
            spend = s.Info.Spend;
            Free(slot, ref s);
        }

        _spend?.Release(in spend);
        target.Released();
    }

    /// <summary>Releases every lease whose deadline passed (no outcome is learned); returns how many.</summary>
    public int Expire(long now)
    {
        using (_gate.Enter())
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

            foreach ((TargetState target, LeaseInfo info) in _expired)
            {
                target.Released();

                // Nothing is known of the request: what it would have cost is no longer held against the caps.
                _spend?.Release(info.Spend);
            }

            return _expired.Count;
        }
    }

    // True when the slot holds the lease of this generation (under the gate).
    private bool IsLive(int slot, int generation) =>
        (uint)slot < (uint)_slots.Length && _slots[slot].Generation == generation && _slots[slot].Target is not null;

    private void Free(int slot, ref Slot s)
    {
        // The record holds no reference (nothing for the collector to keep): the next lease of the slot overwrites it.
        s.Target = null;
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
/// <param name="Spend">The money reserved against the spend caps until the lease completes, is disposed or expires.</param>
/// <param name="PredictedSeconds">The latency predicted for the request, seconds (network and compute): outcomes slower than it raise the target's price (<see cref="TargetState.SlowdownAt"/>).</param>
/// <param name="NetworkSeconds">The predicted network part of <paramref name="OverheadSeconds"/>, seconds.</param>
/// <param name="Priced">
/// What the price counted of the request's service (<see cref="PricedService"/>), split into the wait
/// for the work ahead and what slows the service itself only when an outcome is learned from.
/// </param>
/// <param name="DecodeFromPrior">
/// True when the decode time was priced on the library's prior (the target reported no decode
/// speed and none was learned yet): its outcomes are then the only evidence of its speed, learned
/// even when slower than the slowdown's noise (<see cref="OutcomeLearner"/>).
/// </param>
/// <param name="NetworkFromPrior">
/// True when <paramref name="NetworkSeconds"/> rests on the bandwidth or round-trip prior
/// (<see cref="CostAssumptions.BandwidthPrior"/>: no transfer to the target measured yet). The
/// outcome's latency less a guessed network time is not its service: decode speed is not learned
/// from it unless that guess is a small part of the prediction
/// (<see cref="OutcomeLearner.MaxPriorNetworkShare"/>).
/// </param>
internal readonly record struct LeaseInfo(long Deadline, double OverheadSeconds, SpendReservation Spend, double PredictedSeconds = 0, double NetworkSeconds = 0, PricedService Priced = default, bool DecodeFromPrior = false, bool NetworkFromPrior = false)
{
    /// <summary>True when the chosen candidate's network time was priced on a prior (<see cref="NetworkFromPrior"/>): once per decision.</summary>
    /// <param name="cost">The chosen candidate's cost.</param>
    public static bool PricedNetworkOnPrior(in CostBreakdown cost) => (cost.Assumptions & CostAssumptions.BandwidthPrior) != 0;
}

/// <summary>
/// What a placed request's price counted of its service, kept with its lease as the price's parts,
/// and split (<see cref="Split"/>: four divisions) only when an outcome is learned from, not on the
/// decision's path (a lease disposed or expired needs no split). The default is a price without
/// parts: a stretch of 1 both ways.
/// </summary>
/// <param name="ComputeSeconds">The priced compute time (<see cref="CostBreakdown.ComputeLatencySeconds"/>), seconds.</param>
/// <param name="ServiceSeconds">The predicted service time (prefill and decode at the speeds priced), seconds.</param>
/// <param name="QueueStepDollars">The price's queue step (<see cref="CostBreakdown.QueueStepDollars"/>); 0 for none (an API endpoint).</param>
/// <param name="ValueOfTimeDollarsPerSecond">The price's value of time; 0 for none.</param>
/// <param name="Slots">The target's parallel slots, at least 1.</param>
internal readonly record struct PricedService(double ComputeSeconds, double ServiceSeconds, double QueueStepDollars = 0, double ValueOfTimeDollarsPerSecond = 0, int Slots = 1)
{
    /// <summary>The parts of the chosen candidate's price: once per decision, no arithmetic.</summary>
    /// <param name="cost">The chosen candidate's cost.</param>
    /// <param name="slots">Its parallel slots, at least 1.</param>
    /// <param name="serviceSeconds">Its predicted service time, seconds.</param>
    /// <returns>The parts.</returns>
    public static PricedService Of(in CostBreakdown cost, int slots, double serviceSeconds) =>
        new(cost.ComputeLatencySeconds, serviceSeconds, cost.QueueStepDollars, cost.ValueOfTimeDollarsPerSecond, slots);

    /// <summary>
    /// Splits a node candidate's priced compute time into the wait for the work ahead and what slows
    /// the service itself. The price is service x throttling / (1 - contention) x work ahead
    /// (<see cref="Scoring.DefaultCostScorer"/>), and its <see cref="CostBreakdown.QueueStepDollars"/> is
    /// one slot's share of the first three at the value of time, so the pace of one slot is that x
    /// slots / value of time.
    /// </summary>
    /// <param name="waitStretch">
    /// The wait for the work ahead the price counted, in service times of this request, at least 1
    /// (1: a free slot, no work ahead); all of the stretch when the pace is unknown (no value of time,
    /// an API endpoint's cost). Decode speed is learned only from an outcome priced with no work
    /// ahead: a wait priced and not waited, divided out, was learned as a decoder faster than the
    /// node's; one waited and not priced, as a slower one (<see cref="OutcomeLearner.MaxLearningWait"/>,
    /// docs/routing.md "Leases and outcomes").
    /// </param>
    /// <param name="serviceStretch">
    /// What slows the service itself in the price, at least 1 (1 when the pace is unknown): the
    /// contention of other work on the processor and the throttling. Divided out of the outcome's
    /// latency before decode speed is learned, so a busy or throttled node is not learned as a slow decoder.
    /// </param>
    public void Split(out double waitStretch, out double serviceStretch)
    {
        double serviceSeconds = ServiceSeconds;
        double stretch = serviceSeconds > 0 ? Math.Max(1, ComputeSeconds / serviceSeconds) : 1;
        double pace = ValueOfTimeDollarsPerSecond > 0 ? QueueStepDollars / ValueOfTimeDollarsPerSecond * Math.Max(1, Slots) : 0;
        if (!(pace > 0) || !(serviceSeconds > 0) || !double.IsFinite(pace))
        {
            waitStretch = stretch;
            serviceStretch = 1;
            return;
        }

        serviceStretch = Math.Clamp(pace / serviceSeconds, 1, stretch);
        waitStretch = Math.Max(1, stretch / serviceStretch);
    }
}
