namespace CostModel.Testing.Gossip;

/// <summary>A count of messages and of their payload bytes.</summary>
/// <param name="Messages">Messages.</param>
/// <param name="Bytes">Payload bytes.</param>
public readonly record struct MessageCount(long Messages, long Bytes)
{
    /// <summary>The sum of two counts.</summary>
    /// <param name="left">One count.</param>
    /// <param name="right">The other count.</param>
    /// <returns>Messages and bytes added.</returns>
    public static MessageCount operator +(MessageCount left, MessageCount right) =>
        new(left.Messages + right.Messages, left.Bytes + right.Bytes);

    /// <summary>The sum of two counts (for languages without operators).</summary>
    /// <param name="left">One count.</param>
    /// <param name="right">The other count.</param>
    /// <returns>Messages and bytes added.</returns>
    public static MessageCount Add(MessageCount left, MessageCount right) => left + right;
}

/// <summary>
/// Traffic of one endpoint, or of the whole <see cref="InMemoryNetwork"/>. A message is counted
/// as sent and, when dropped, as dropped on its sender; as delivered on its receiver. For the whole
/// network, <c>Sent + Duplicated = Delivered + Dropped + in flight</c>.
/// </summary>
public sealed record TrafficCounters
{
    /// <summary>Messages passed to <see cref="InMemoryNetwork.Send"/>.</summary>
    public MessageCount Sent { get; init; }

    /// <summary>Extra copies made by duplication (each is delivered or dropped like any message).</summary>
    public MessageCount Duplicated { get; init; }

    /// <summary>Messages handed to a receiver.</summary>
    public MessageCount Delivered { get; init; }

    /// <summary>Messages lost at random (<see cref="LinkConditions.LossProbability"/>).</summary>
    public MessageCount Lost { get; init; }

    /// <summary>Messages between endpoints on different sides of a partition.</summary>
    public MessageCount Partitioned { get; init; }

    /// <summary>Messages larger than the link's <see cref="LinkConditions.Mtu"/>.</summary>
    public MessageCount Oversize { get; init; }

    /// <summary>Messages to an address with no endpoint (at send, or removed before delivery).</summary>
    public MessageCount UnknownEndpoint { get; init; }

    /// <summary>All dropped messages: lost, partitioned, oversize and to unknown endpoints.</summary>
    public MessageCount Dropped => Lost + Partitioned + Oversize + UnknownEndpoint;
}
