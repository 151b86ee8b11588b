using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>What the server refuses, through a real <c>nats-server</c> configured to refuse it: counted, logged once at Warning with the reason, and the node keeps working.</summary>
public sealed class ServerTroubleTests
{
    private const string Password = "s3cret-pw-not-for-logs";

    private static readonly TimeSpan Beat = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task Messages_over_the_servers_max_payload_are_counted_and_logged_once()
    {
        // 64 bytes: smaller than any sealed gossip message.
        await using NatsServer server = await NatsServer.StartAsync("max_payload: 64\n");
        var logger = new FakeLogger<NatsGossipTransport>();
        await using NatsNode node = await NatsNode.StartAsync("big", server.Url, Beat, logger: logger);

        await Poll.UntilAsync(() => node.Transport.Stats.SendOversize >= 3, node.Describe);
        Assert.True(node.Transport.Stats.Connected, node.Describe());
        Assert.Equal(0, node.Transport.Stats.MessagesSent);
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("send-over-max-payload", StringComparison.Ordinal));
        Assert.Contains("max_payload of 64 bytes", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subject_permission_error_is_counted_and_logged_once_without_the_password()
    {
        // The user may not publish on the state subject: its gossip is refused, its sync still goes out.
        string config = $$"""
            authorization {
              users = [
                { user: "node", password: "{{Password}}", permissions: { publish: { deny: ["costmodel.test.state"] }, subscribe: ">" } }
              ]
            }
            """;
        await using NatsServer server = await NatsServer.StartAsync(config);
        var logger = new FakeLogger<NatsGossipTransport>();
        await using NatsNode node = await NatsNode.StartAsync("limited", $"nats://node:{Password}@127.0.0.1:{server.Port}", Beat, logger: logger);

        await Poll.UntilAsync(() => node.Transport.Stats.PermissionErrors >= 2, node.Describe);
        Assert.True(node.Transport.Stats.Connected, node.Describe());
        IReadOnlyList<FakeLogRecord> records = logger.Collector.GetSnapshot();
        FakeLogRecord warning = Assert.Single(records, r => r.Level == LogLevel.Warning && r.Message.Contains("permission-denied", StringComparison.Ordinal));
        Assert.Contains("costmodel.test.state", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(records, r => r.Message.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_flood_beyond_the_pending_bound_is_dropped_counted_and_logged_once_as_a_slow_consumer()
    {
        await using NatsServer server = await NatsServer.StartAsync();
        var logger = new FakeLogger<NatsGossipTransport>();
        await using NatsNode node = await NatsNode.StartAsync("slow", server.Url, Beat, o => o.MaxPendingMessages = 1, logger: logger);
        await using var raw = new NATS.Client.Core.NatsConnection(NATS.Client.Core.NatsOpts.Default with { Url = server.Url });
        byte[] junk = new byte[100];
        CancellationToken ct = TestContext.Current.CancellationToken;
        for (int i = 0; i < 20_000; i++)
        {
            await raw.PublishAsync("costmodel.test.state", junk, replyTo: "costmodel.test.inbox.flood", cancellationToken: ct);
        }

        await Poll.UntilAsync(() => node.Transport.Stats is { ReceivedDropped: > 0, SlowConsumers: >= 1 }, node.Describe);
        Assert.True(node.Transport.Stats.Connected, node.Describe());
        Assert.Single(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("slow-consumer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_password_fails_the_start_with_the_reason_and_without_the_password()
    {
        await using NatsServer server = await NatsServer.StartAsync($$"""authorization { user: "node", password: "{{Password}}" }""");
        var options = new NatsGossipOptions { Url = server.Url, Username = "node", Password = "wrong-" + Password, Mesh = "test" };
        GossipAdapter adapter = NatsNode.AdapterOnly("n", NatsNode.Key, out IDisposable owner);
        using (owner)
        {
            await using var transport = new NatsGossipTransport(adapter, options);
            Exception e = await Assert.ThrowsAnyAsync<Exception>(() => transport.StartAsync(TestContext.Current.CancellationToken));
            Assert.DoesNotContain(Password, e.ToString(), StringComparison.Ordinal);
        }
    }
}
