using System.Diagnostics.Metrics;

namespace CostModel.Gossip.Nats;

/// <summary>
/// The transport's counters as instruments on the <c>CostModel</c> meter, read from
/// <see cref="NatsGossipTransport.Stats"/> when a listener collects (never on the message path).
/// Names follow the library's (<c>costmodel.gossip.nats.*</c>); reasons, events and directions are tags.
/// </summary>
internal static class NatsMetrics
{
    public static void Observe(Meter meter, NatsGossipTransport transport)
    {
        meter.CreateObservableCounter("costmodel.gossip.nats.messages", () => Messages(transport.Stats), "{message}", "Messages published, received and delivered to the adapter, by direction.");
        meter.CreateObservableCounter("costmodel.gossip.nats.bytes", () => Bytes(transport.Stats), "By", "Bytes published and received, by direction.");
        meter.CreateObservableCounter("costmodel.gossip.nats.dropped", () => Dropped(transport.Stats), "{message}", "Messages dropped before or instead of the adapter or the server, by reason.");
        meter.CreateObservableCounter("costmodel.gossip.nats.events", () => Events(transport.Stats), "{event}", "Connection and server events: disconnected, reconnected, reconnect-failed, connect-failed, slow-consumer, permission-denied, server-error, sync-request.");
        meter.CreateObservableCounter("costmodel.gossip.nats.kv", () => KeyValue(transport.Stats), "{operation}", "Key-value bucket operations: put, read, error.");
        meter.CreateObservableGauge("costmodel.gossip.nats.connected", () => transport.Stats.Connected ? 1 : 0, "{connection}", "1 while connected to a NATS server.");
    }

    private static Measurement<long>[] Messages(NatsGossipStats s) =>
    [
        Tag(s.MessagesSent, "direction", "sent"),
        Tag(s.MessagesReceived, "direction", "received"),
        Tag(s.MessagesDelivered, "direction", "delivered"),
    ];

    private static Measurement<long>[] Bytes(NatsGossipStats s) =>
    [
        Tag(s.BytesSent, "direction", "sent"),
        Tag(s.BytesReceived, "direction", "received"),
    ];

    private static Measurement<long>[] Dropped(NatsGossipStats s) =>
    [
        Tag(s.MessagesRefused, "reason", "refused-by-adapter"),
        Tag(s.ReceivedOversize, "reason", "received-oversize"),
        Tag(s.ReceivedNoSender, "reason", "received-no-sender"),
        Tag(s.ReceivedDropped, "reason", "received-slow-consumer"),
        Tag(s.SendOversize, "reason", "send-oversize"),
        Tag(s.SendQueueFull, "reason", "send-queue-full"),
        Tag(s.SendDisconnected, "reason", "send-disconnected"),
        Tag(s.SendInvalidAddress, "reason", "send-invalid-address"),
        Tag(s.SendErrors, "reason", "send-error"),
        Tag(s.AdapterErrors, "reason", "adapter-error"),
    ];

    private static Measurement<long>[] Events(NatsGossipStats s) =>
    [
        Tag(s.Disconnects, "event", "disconnected"),
        Tag(s.Reconnects, "event", "reconnected"),
        Tag(s.ReconnectFailures, "event", "reconnect-failed"),
        Tag(s.ConnectFailures, "event", "connect-failed"),
        Tag(s.SlowConsumers, "event", "slow-consumer"),
        Tag(s.PermissionErrors, "event", "permission-denied"),
        Tag(s.ServerErrors, "event", "server-error"),
        Tag(s.SyncRequests, "event", "sync-request"),
    ];

    private static Measurement<long>[] KeyValue(NatsGossipStats s) =>
    [
        Tag(s.KeyValuePuts, "operation", "put"),
        Tag(s.KeyValueReads, "operation", "read"),
        Tag(s.KeyValueErrors, "operation", "error"),
    ];

    private static Measurement<long> Tag(long value, string key, string tag) => new(value, new KeyValuePair<string, object?>(key, tag));
}
