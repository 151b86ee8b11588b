using CostModel.Factors;
using CostModel.Gossip.Wire;
using CostModel.Mesh;

namespace CostModel.Gossip;

/// <summary>
/// What the adapter keeps of one remote node: its newest state at wire precision, capabilities,
/// liveness and failure detector, and how many more times it should relay each. Mutated only under
/// the mesh view's gate; turned into a <see cref="MeshNode"/> when the view is read after a change.
/// </summary>
internal sealed class GossipNode(string nodeId, byte[] nodeIdUtf8, PhiAccrualDetector detector) : MeshEntrySource(nodeId)
{
    public byte[] NodeIdUtf8 { get; } = nodeIdUtf8;

    public PhiAccrualDetector Detector { get; set; } = detector;

    public WireNodeState State;

    public bool HasState { get; set; }

    public NodeCapabilities? Capabilities { get; set; }

    public long CapabilitiesGeneration { get; set; }

    /// <summary>When capabilities were last merged (timestamp ticks): a node heard only through them ages out from here.</summary>
    public long CapabilitiesHeardAt { get; set; }

    public NodeLiveness Liveness { get; set; } = NodeLiveness.Alive;

    /// <summary>States merged of its current run: a node heard only once may give way in a full view.</summary>
    public int StatesThisRun { get; set; }

    /// <summary>When its last state was merged (UTC ticks on this node's clock).</summary>
    public long LastHeardTicks { get; set; }

    /// <summary>
    /// The deadline it is queued under in the adapter's liveness queue (timestamp ticks; at or before
    /// the earliest moment its liveness can change); <see cref="long.MaxValue"/> while not queued. An
    /// entry of the queue under another deadline is an outdated one and is skipped.
    /// </summary>
    public long LivenessDeadline { get; set; } = long.MaxValue;

    /// <summary>Its state's place in the adapter's <see cref="RelayQueue"/> and the transmits it has left.</summary>
    public RelayLinks StateLinks;

    /// <summary>Its capabilities' place in the adapter's <see cref="RelayQueue"/> and the transmits they have left.</summary>
    public RelayLinks CapabilityLinks;

    /// <summary>How many more times its state is to be relayed (set through the <see cref="RelayQueue"/>).</summary>
    public int StateTransmits => StateLinks.Transmits;

    /// <summary>How many more times its capabilities are to be relayed (set through the <see cref="RelayQueue"/>).</summary>
    public int CapabilityTransmits => CapabilityLinks.Transmits;

    protected override MeshNode? Build() => HasState
        ? new MeshNode(WireQuantizer.ToFactors(NodeId, State), Capabilities ?? new NodeCapabilities(NodeId, 0)) { Liveness = Liveness }
        : null;
}
