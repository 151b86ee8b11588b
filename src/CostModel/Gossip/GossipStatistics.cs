namespace CostModel.Gossip;

/// <summary>Counts of a gossip adapter's traffic since it was created.</summary>
/// <param name="Received">Messages handed to <see cref="IGossipAdapter.Receive"/>.</param>
/// <param name="Rejected">Messages or records refused (by any check).</param>
/// <param name="Merged">Records that changed the view.</param>
/// <param name="Stale">Records older than what the view had (replays, duplicates, reordering): ignored.</param>
/// <param name="Published">Publications of this node's factors.</param>
/// <param name="Sent">Messages written for the host to send.</param>
/// <param name="Held">Messages held until their sender answered a challenge (first contact, or a message written too long ago).</param>
/// <param name="Challenges">Challenges sent to senders not yet proven.</param>
/// <param name="MergedLate">
/// Node states merged (of <paramref name="Merged"/>) that were older than the heartbeat
/// (<see cref="GossipOptions.MaxSilence"/>) when they arrived: their node's next heartbeat was due
/// before they came. More than a few in a hundred: the mesh is larger than the gossip's budget carries
/// (docs/gossip-wire-format.md, "How large a mesh the budget carries").
/// </param>
public readonly record struct GossipStatistics(long Received, long Rejected, long Merged, long Stale, long Published, long Sent, long Held = 0, long Challenges = 0, long MergedLate = 0);
