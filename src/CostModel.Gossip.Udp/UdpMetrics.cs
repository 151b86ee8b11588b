using System.Diagnostics.Metrics;

namespace CostModel.Gossip.Udp;

/// <summary>
/// The transport's counters as instruments on the <c>CostModel</c> meter, read from
/// <see cref="UdpGossipTransport.Stats"/> when a listener collects (never on the datagram path).
/// Names follow the library's (<c>costmodel.gossip.udp.*</c>); reasons and directions are tags, so
/// a dashboard sums or splits them.
/// </summary>
internal static class UdpMetrics
{
    public static void Observe(Meter meter, UdpGossipTransport transport)
    {
        meter.CreateObservableCounter("costmodel.gossip.udp.datagrams", () => Datagrams(transport.Stats), "{datagram}", "Datagrams sent, received and delivered to the adapter, by direction.");
        meter.CreateObservableCounter("costmodel.gossip.udp.bytes", () => Bytes(transport.Stats), "By", "Bytes sent and received, by direction.");
        meter.CreateObservableCounter("costmodel.gossip.udp.dropped", () => Dropped(transport.Stats), "{datagram}", "Datagrams dropped before or instead of the adapter or the socket, by reason.");
        meter.CreateObservableCounter("costmodel.gossip.udp.peer_changes", () => PeerChanges(transport.Stats), "{peer}", "Peers admitted (a message accepted), aged out (silent) and evicted (the table full), by change.");
        meter.CreateObservableGauge("costmodel.gossip.udp.peers", () => transport.Stats.Peers, "{peer}", "Gossip peers: seeds and senders whose messages the adapter accepted.");
    }

    private static Measurement<long>[] Datagrams(UdpGossipStats s) =>
    [
        new(s.DatagramsSent, new KeyValuePair<string, object?>("direction", "sent")),
        new(s.DatagramsReceived, new KeyValuePair<string, object?>("direction", "received")),
        new(s.DatagramsDelivered, new KeyValuePair<string, object?>("direction", "delivered")),
    ];

    private static Measurement<long>[] Bytes(UdpGossipStats s) =>
    [
        new(s.BytesSent, new KeyValuePair<string, object?>("direction", "sent")),
        new(s.BytesReceived, new KeyValuePair<string, object?>("direction", "received")),
    ];

    private static Measurement<long>[] Dropped(UdpGossipStats s) =>
    [
        Reason(s.ReceivedOversize, "received-oversize"),
        Reason(s.ReceivedQueueFull, "received-queue-full"),
        Reason(s.ReceivedSourceLimited, "received-source-limited"),
        Reason(s.ReceivedStrangerLimited, "received-stranger-limited"),
        Reason(s.DatagramsRefused, "refused-by-adapter"),
        Reason(s.ReceiveErrors, "receive-error"),
        Reason(s.SendOversize, "send-oversize"),
        Reason(s.SendInvalidAddress, "send-invalid-address"),
        Reason(s.SendDestinationLimited, "send-destination-limited"),
        Reason(s.SendStrangerLimited, "send-stranger-limited"),
        Reason(s.SendNoPeers, "send-no-peers"),
        Reason(s.SendErrors, "send-error"),
        Reason(s.AdapterErrors, "adapter-error"),
        Reason(s.UnresolvedSeeds, "unresolved-seed"),
    ];

    private static Measurement<long>[] PeerChanges(UdpGossipStats s) =>
    [
        new(s.PeersAdmitted, new KeyValuePair<string, object?>("change", "admitted")),
        new(s.PeersAgedOut, new KeyValuePair<string, object?>("change", "aged-out")),
        new(s.PeersEvicted, new KeyValuePair<string, object?>("change", "evicted")),
    ];

    private static Measurement<long> Reason(long value, string reason) => new(value, new KeyValuePair<string, object?>("reason", reason));
}
