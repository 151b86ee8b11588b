using CostModel.Gossip;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>Options, subjects and key-value entries: no server needed.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_name_the_mesh_subjects()
    {
        var options = new NatsGossipOptions();
        options.Validate();
        Assert.Equal("costmodel.costmodel.state", options.EffectiveStateSubject);
        Assert.Equal("costmodel.costmodel.sync", options.EffectiveSyncSubject);
        Assert.Equal("costmodel.costmodel.inbox", options.EffectiveInboxPrefix);
        Assert.Equal("costmodel-costmodel", options.EffectiveKeyValueBucket);
    }

    [Theory]
    [InlineData("Mesh", "two.tokens")]
    [InlineData("Mesh", "wild*")]
    [InlineData("StateSubject", "costmodel.>")]
    [InlineData("SyncSubject", "costmodel.costmodel.state")]
    [InlineData("InboxPrefix", "costmodel. spaced")]
    [InlineData("Url", "http://example.org")]
    [InlineData("TlsMode", "Sometimes")]
    public void An_invalid_value_is_refused_with_its_name(string property, string value)
    {
        var options = new NatsGossipOptions();
        typeof(NatsGossipOptions).GetProperty(property)!.SetValue(options, value);
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(options.Validate);
        Assert.Contains(property == "SyncSubject" ? "StateSubject" : property, e.ParamName ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_without_a_user_is_refused_and_a_url_is_validated_without_showing_its_password()
    {
        Assert.Throws<ArgumentException>(new NatsGossipOptions { Password = "x" }.Validate);
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(new NatsGossipOptions { Url = "http://user:hunter2@example.org" }.Validate);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.Equal("nats://***@host:4222", Subjects.Redact("nats://user:hunter2@host:4222"));
        Assert.Equal("nats://host:4222", Subjects.Redact("nats://host:4222"));
    }

    [Theory]
    [InlineData("costmodel.m.inbox.0123abc", true)]
    [InlineData("costmodel.m.inbox.a.b", false)]
    [InlineData("costmodel.m.inbox.*", false)]
    [InlineData("costmodel.m.inbox.>", false)]
    [InlineData("costmodel.m.inbox.", false)]
    [InlineData("costmodel.m.state", false)]
    [InlineData("costmodel.m.inboxx.a", false)]
    [InlineData(null, false)]
    public void Only_one_plain_token_under_the_inbox_prefix_is_a_sender(string? subject, bool isInbox) =>
        Assert.Equal(isInbox, Subjects.IsInbox(subject, "costmodel.m.inbox"));

    [Fact]
    public void A_key_value_entry_reads_back_and_a_damaged_one_is_refused()
    {
        byte[] message = [1, 2, 3, 4];
        byte[] value = KeyValueEntry.Write("costmodel.m.inbox.abc", message);
        Assert.True(KeyValueEntry.TryRead(value, "costmodel.m.inbox", out string inbox, out ReadOnlySpan<byte> read));
        Assert.Equal("costmodel.m.inbox.abc", inbox);
        Assert.Equal(message, read.ToArray());

        Assert.False(KeyValueEntry.TryRead(value, "costmodel.other.inbox", out _, out _)); // an inbox of another mesh
        Assert.False(KeyValueEntry.TryRead(value.AsSpan(0, 10), "costmodel.m.inbox", out _, out _)); // cut short
        byte[] versioned = (byte[])value.Clone();
        versioned[0] = 9;
        Assert.False(KeyValueEntry.TryRead(versioned, "costmodel.m.inbox", out _, out _));
        Assert.False(KeyValueEntry.TryRead([], "costmodel.m.inbox", out _, out _));
    }

    [Theory]
    [InlineData("desk-1", "desk-1")]
    [InlineData("a.b/c_d", "a.b/c_d")]
    [InlineData("laptop of ana", "=6c6170746f70206f6620616e61")]
    [InlineData("=x", "=3d78")]
    [InlineData(".x", "=2e78")]
    public void A_node_id_becomes_a_valid_key_value_key(string nodeId, string key) => Assert.Equal(key, KeyValueEntry.KeyFor(nodeId));

    [Fact]
    public void The_host_refuses_to_start_when_the_adapter_pulls_and_the_mesh_follows_the_cluster_id()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CostModel:NodeId"] = "n",
            ["CostModel:Gossip:AllowUnauthenticated"] = "true",
            ["CostModel:Gossip:ClusterId"] = "lab",
            ["CostModel:Gossip:Dissemination"] = "Pull",
        }).Build();
        var services = new ServiceCollection();
        services.AddCostModel(configuration.GetSection("CostModel")).AddGossip().AddNatsGossipTransport();
        using ServiceProvider provider = services.BuildServiceProvider();
        OptionsValidationException e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<NatsGossipOptions>>().Value);
        Assert.Contains("Dissemination must be Push", e.Message, StringComparison.Ordinal);

        configuration["CostModel:Gossip:Dissemination"] = "Push";
        using ServiceProvider pushing = new ServiceCollection().Also(s => s.AddCostModel(configuration.GetSection("CostModel")).AddGossip().AddNatsGossipTransport()).BuildServiceProvider();
        NatsGossipOptions options = pushing.GetRequiredService<IOptions<NatsGossipOptions>>().Value;
        Assert.Equal("lab", options.Mesh);
        Assert.Equal(GossipDefaults.DeadAfter, options.KeyValueTtl);
    }
}

internal static class ServiceCollectionTestExtensions
{
    public static IServiceCollection Also(this IServiceCollection services, Action<IServiceCollection> add)
    {
        add(services);
        return services;
    }
}
