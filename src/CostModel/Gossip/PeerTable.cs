using CostModel.Factors;
using CostModel.Gossip.Wire;
using CostModel.Mesh;

namespace CostModel.Gossip;

/// <summary>
/// What the adapter keeps of one remote node: its newest state at wire precision, capabilities,
/// liveness and failure detector, its places in the relay queue, and the node as last built for
/// the view (its liveness deadline is kept in the table's <see cref="PeerTable.LivenessQueue"/>).
/// A record of <see cref="PeerTable"/>, mutated only under the mesh view's gate.
/// </summary>
/// <remarks>
/// 216 bytes on a 64-bit runtime (PeerTableTests holds it to that): a simulated 1,000-node mesh
/// keeps a million, so each byte of a record is a megabyte of live heap. Of these the state takes
/// 104 (<see cref="WireNodeState"/>: its groups' observation times kept as the arrival time and the
/// age bytes received, 48 bytes fewer than a time per group); the liveness deadline lives in the
/// table's queue and the time it was last heard is its state's arrival time, not fields of their own.
/// </remarks>
internal struct PeerRecord
{
    public string NodeId;

    public byte[] NodeIdUtf8;

    public NodeCapabilities? Capabilities;

    /// <summary>The node as last built for the view; rebuilt on the next read once <see cref="Changed"/>.</summary>
    public MeshNode? Built;

    public WireNodeState State;

    /// <summary>The failure detector's state (its parameters are the adapter's, shared by every record).</summary>
    public PhiWindow Detector;

    public long CapabilitiesGeneration;

    /// <summary>When capabilities were last merged (timestamp ticks): a node heard only through them ages out from here.</summary>
    public long CapabilitiesHeardAt;

    /// <summary>When its last state was merged (UTC ticks on this node's clock): the state's arrival time; 0 before any.</summary>
    public readonly long LastHeardTicks => State.ReceivedTicks;

    /// <summary>Its state's place in the adapter's <see cref="RelayQueue"/> and the transmits it has left.</summary>
    public RelayLinks StateLinks;

    /// <summary>Its capabilities' place in the adapter's <see cref="RelayQueue"/> and the transmits they have left.</summary>
    public RelayLinks CapabilityLinks;

    /// <summary>States merged of its current run: a node heard only once may give way in a full view.</summary>
    public int StatesThisRun;

    // NodeLiveness is an int enum (public); its three values fit a byte, which with the three flags
    // below packs the record's tail into 8 bytes instead of 16 (8 MB of a 1,000-node simulation).
    private byte _liveness;

    public bool HasState;

    /// <summary>True when the record changed since <see cref="Built"/> was built.</summary>
    public bool Changed;

    /// <summary>
    /// True once the view no longer lists this record (<see cref="MeshEntryStore.Released"/>: the
    /// host wrote its own entry under the id, or removed it): gossip keeps the record for its relays
    /// and liveness, but tells the view and its subscribers nothing more of the node.
    /// </summary>
    public bool Released;

    /// <summary>Its liveness as this node judges it.</summary>
    public NodeLiveness Liveness
    {
        readonly get => (NodeLiveness)_liveness;
        set => _liveness = (byte)value;
    }

    /// <summary>How many more times its state is to be relayed (set through the <see cref="RelayQueue"/>).</summary>
    public readonly int StateTransmits => StateLinks.Transmits;

    /// <summary>How many more times its capabilities are to be relayed (set through the <see cref="RelayQueue"/>).</summary>
    public readonly int CapabilityTransmits => CapabilityLinks.Transmits;
}

/// <summary>
/// The adapter's remote nodes: <see cref="PeerRecord"/> structs in arrays of a fixed size, indexed
/// by a slot, and one dictionary from node id to slot. Each node of a simulated 1,000-node mesh keeps a record for
/// every other, a million in all: as objects (a record, a detector, and their references from the
/// relay and liveness queues) they were a graph the collector traced on every full collection and
/// that every merge wrote new references into; as structs in a few arrays per node they are neither.
/// Also the view's store of these nodes (<see cref="MeshEntryStore"/>): an entry is built into a
/// <see cref="MeshNode"/> when the view is read after it changed. Not thread-safe: the adapter
/// calls it under the view's gate.
/// </summary>
/// <remarks>
/// The arrays are of <see cref="ChunkRecords"/> records and never copied: the table grows by a new
/// one, so a <c>ref</c> to a record (<see cref="this[int]"/>) stays valid while the table grows, and
/// no array is large enough for the large object heap (a single array doubling as it grew left a
/// 150 KB copy behind per node at 1,000 nodes, collected only by full collections). A slot freed
/// by <see cref="Remove"/> is given to a later node: the table takes it out of its own
/// <see cref="PeerTable.LivenessQueue"/>, and whoever keeps slots elsewhere (the relay queue) drops them first.
/// </remarks>
internal sealed class PeerTable : MeshEntryStore
{
    /// <summary>
    /// 64 records an array (2^<see cref="ChunkShift"/>): about 14 KB of records of 216 bytes,
    /// well under the runtime's 85,000-byte large object threshold; a 1,000-node mesh takes 16.
    /// </summary>
    private const int ChunkRecords = 1 << ChunkShift;

    private const int ChunkShift = 6;

    private const int ChunkMask = ChunkRecords - 1;

    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _slotsBySpan;
    private readonly Stack<int> _free = new();
    private PeerRecord[][] _chunks = [];
    private int _used;

    /// <summary>Creates an empty table.</summary>
    public PeerTable()
    {
        _slotsBySpan = _slots.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>
    /// Each node under the earliest timestamp at which its liveness can change (its deadline), by
    /// slot, for the adapter's liveness rounds; a slot leaves it when its node leaves the table
    /// (<see cref="Remove"/>), so a slot's next node starts unqueued.
    /// </summary>
    public LivenessQueue LivenessQueue { get; } = new();

    /// <summary>Nodes in the table (those indexed by id).</summary>
    public int Count => _slots.Count;

    /// <summary>The slots of the nodes in the table, in the id dictionary's order (which the adapter's passes and replies follow).</summary>
    public Dictionary<string, int>.ValueCollection Slots => _slots.Values;

    /// <summary>The record in <paramref name="slot"/>.</summary>
    /// <param name="slot">A slot given by <see cref="Reserve"/> and not removed.</param>
    public ref PeerRecord this[int slot] => ref _chunks[slot >> ChunkShift][slot & ChunkMask];

    /// <summary>Finds a node's slot by id.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="slot">Its slot.</param>
    /// <returns>True when the node is in the table.</returns>
    public bool TryFind(ReadOnlySpan<char> nodeId, out int slot) => _slotsBySpan.TryGetValue(nodeId, out slot);

    /// <summary>
    /// Takes a slot for a new node, its record set up (not heard yet, alive, its detector
    /// <paramref name="detector"/>), but not yet found by id: <see cref="Index"/> then adds it,
    /// or <see cref="Remove"/> gives the slot back.
    /// </summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="nodeIdUtf8">Its UTF-8 bytes.</param>
    /// <param name="detector">Its detector's start.</param>
    /// <returns>The slot.</returns>
    public int Reserve(string nodeId, byte[] nodeIdUtf8, in PhiWindow detector)
    {
        if (!_free.TryPop(out int slot))
        {
            if (_used == _chunks.Length * ChunkRecords)
            {
                Array.Resize(ref _chunks, _chunks.Length + 1);
                _chunks[^1] = new PeerRecord[ChunkRecords];
            }

            slot = _used++;
        }

        this[slot] = new PeerRecord
        {
            NodeId = nodeId,
            NodeIdUtf8 = nodeIdUtf8,
            Detector = detector,
            Liveness = NodeLiveness.Alive,
            StateLinks = RelayLinks.None,
            CapabilityLinks = RelayLinks.None,
            Changed = true,
        };
        return slot;
    }

    /// <summary>Makes a reserved slot's node found by its id.</summary>
    /// <param name="slot">A slot from <see cref="Reserve"/>.</param>
    public void Index(int slot) => PeerTableGrowth.Add(_slots, this[slot].NodeId, slot);

    /// <summary>Reserves and indexes a slot at once.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="nodeIdUtf8">Its UTF-8 bytes.</param>
    /// <param name="detector">Its detector's start.</param>
    /// <returns>The slot.</returns>
    public int Add(string nodeId, byte[] nodeIdUtf8, in PhiWindow detector)
    {
        int slot = Reserve(nodeId, nodeIdUtf8, detector);
        Index(slot);
        return slot;
    }

    /// <summary>
    /// Takes a node out of the table and frees its slot: its record is cleared and the slot taken
    /// out of <see cref="PeerTable.LivenessQueue"/>. The caller takes it out of the relay queue first.
    /// </summary>
    /// <param name="slot">The node's slot.</param>
    public void Remove(int slot)
    {
        ref PeerRecord record = ref this[slot];
        if (_slots.TryGetValue(record.NodeId, out int indexed) && indexed == slot)
        {
            _slots.Remove(record.NodeId);
        }

        record = default;
        LivenessQueue.Remove(slot);
        _free.Push(slot);
    }

    /// <inheritdoc />
    public override string NodeIdOf(int key) => this[key].NodeId;

    /// <inheritdoc />
    public override void Released(int key) => this[key].Released = true;

    /// <inheritdoc />
    public override MeshNode? Current(int key)
    {
        ref PeerRecord record = ref this[key];
        if (record.Changed)
        {
            record.Changed = false;
            record.Built = null;
            record.Built = Build(record);
        }

        return record.Built;
    }

    private static MeshNode? Build(in PeerRecord record) => record.HasState
        ? new MeshNode(WireQuantizer.ToFactors(record.NodeId, record.State), record.Capabilities ?? new NodeCapabilities(record.NodeId, 0)) { Liveness = record.Liveness }
        : null;
}
