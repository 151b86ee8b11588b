using CostModel.Gossip;
using CostModel.Gossip.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

/// <summary>
/// Whether the mesh's gossip keeps up (<see cref="GossipFreshness"/>): judged from how old the
/// states a node merges are, said once when it falls behind and once when it catches up.
/// </summary>
public sealed class GossipFreshnessTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly long Heartbeat = GossipDefaults.MaxSilence.Ticks;
    private static readonly long Minute = GossipFreshness.Window.Ticks;

    [Theory]
    [InlineData(50, 12, false)] // 24 %: under a quarter
    [InlineData(50, 13, true)] // 26 %
    [InlineData(49, 49, false)] // too few states to judge
    public void A_window_is_behind_from_a_quarter_of_its_states_late_and_at_least_50(int merged, int late, bool behind)
    {
        var freshness = new GossipFreshness();
        Assert.False(freshness.TryClose(Minute, out _)); // opens the first window

        for (int i = 0; i < merged; i++)
        {
            freshness.Merged(i < late ? Heartbeat + 1 : Heartbeat, Heartbeat);
        }

        Assert.False(freshness.TryClose(2 * Minute - 1, out _)); // the window has not run its course
        Assert.Equal(behind, freshness.TryClose(2 * Minute, out FreshnessWindow window));
        Assert.Equal(behind, freshness.Behind);
        if (behind)
        {
            Assert.Equal(merged, window.Merged);
            Assert.Equal((double)late / merged, window.LateShare, 9);
            Assert.Equal(((late * (Heartbeat + 1)) + ((merged - late) * Heartbeat)) / (double)merged / TimeSpan.TicksPerSecond, window.MeanAgeSeconds, 9);
        }
    }

    [Fact]
    public void The_verdict_changes_once_each_way_and_a_clock_set_back_opens_a_new_window()
    {
        var freshness = new GossipFreshness();
        freshness.TryClose(Minute, out _);
        Late(freshness, 60);
        Assert.True(freshness.TryClose(2 * Minute, out _));
        Late(freshness, 60);
        Assert.False(freshness.TryClose(3 * Minute, out _)); // still behind: said once
        Assert.True(freshness.Behind);

        // A clock set back: the late states counted so far are dropped with the window.
        Late(freshness, 10);
        Assert.False(freshness.TryClose(Minute, out _));
        Fresh(freshness, 60);
        Assert.True(freshness.TryClose(2 * Minute, out FreshnessWindow caughtUp));
        Assert.False(freshness.Behind);
        Assert.Equal(0, caughtUp.LateShare);
        Assert.Equal(60, caughtUp.Merged);
    }

    [Fact]
    public void A_node_merging_states_older_than_the_heartbeat_says_the_gossip_is_behind_and_then_that_it_caught_up()
    {
        var time = new FakeTimeProvider(Start);
        var logs = new FakeLogCollector();
        using var node = new GossipNodeFixture("desktop", time, logs: logs);
        using GossipKeyring keyring = GossipKeyring.FromBase64([GossipNodeFixture.TestKey]);
        var peer = new RawPeer("10.0.0.2:7946", node.Wire, time, keyring);
        long generation = Start.ToUnixTimeMilliseconds();

        // A minute of 60 nodes' states, one a second, each read the given time before it arrives.
        void MinuteOf(TimeSpan age, long version)
        {
            for (int i = 0; i < 60; i++)
            {
                long now = time.GetUtcNow().UtcTicks;
                peer.SendTo(node, peer.Message(MessageType.Gossip, RawPeer.StateRecord($"n{i:00}", RawPeer.State(generation, version, now - age.Ticks), now)));
                time.Advance(TimeSpan.FromSeconds(1));
                node.Round();
            }
        }

        node.Round();
        MinuteOf(TimeSpan.FromSeconds(8), version: 1);
        Assert.NotNull(node.Find("n59"));
        Assert.Equal(60, node.Adapter.Statistics.MergedLate);
        FakeLogRecord behind = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3011);
        Assert.Equal(LogLevel.Warning, behind.Level);
        Assert.Contains("CostModel:Gossip:Interval", behind.Message, StringComparison.Ordinal);
        Assert.Contains("60 node states", behind.Message, StringComparison.Ordinal);

        // Still late: not said again. Then states half a second old: caught up, said once.
        MinuteOf(TimeSpan.FromSeconds(8), version: 2);
        MinuteOf(TimeSpan.FromSeconds(0.5), version: 3);
        Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3011);
        Assert.Equal(120, node.Adapter.Statistics.MergedLate);
        FakeLogRecord caughtUp = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3012);
        Assert.Equal(LogLevel.Information, caughtUp.Level);
    }

    private static void Late(GossipFreshness freshness, int count)
    {
        for (int i = 0; i < count; i++)
        {
            freshness.Merged(2 * Heartbeat, Heartbeat);
        }
    }

    private static void Fresh(GossipFreshness freshness, int count)
    {
        for (int i = 0; i < count; i++)
        {
            freshness.Merged(Heartbeat / 10, Heartbeat);
        }
    }
}
