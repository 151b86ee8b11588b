using CostModel.Gossip;

namespace CostModel.Tests.Gossip;

public sealed class SenderProofsTests
{
    private const long ProofIdleMs = 90_000;

    [Fact]
    public void A_challenge_time_is_kept_while_it_holds_back_challenges_and_dropped_after()
    {
        var proofs = new SenderProofs(maxSenders: 4_096, nowMs: 0);
        long interval = (long)SenderProofs.ChallengeInterval.TotalMilliseconds;

        Assert.True(proofs.TryChallenge("a", 0));
        Assert.True(proofs.TryChallenge("b", interval / 2));

        // Within the interval: kept, and it holds back a second challenge.
        proofs.Expire(interval - 1, ProofIdleMs);
        Assert.Equal(2, proofs.ChallengeTimesCount);
        Assert.False(proofs.TryChallenge("a", interval - 1));

        // a's time is an interval old: it limits nothing any more and goes; b's stays and still limits.
        proofs.Expire(interval, ProofIdleMs);
        Assert.Equal(1, proofs.ChallengeTimesCount);
        Assert.False(proofs.TryChallenge("b", interval));
        Assert.True(proofs.TryChallenge("a", interval));

        proofs.Expire(interval + (interval / 2), ProofIdleMs);
        Assert.Equal(1, proofs.ChallengeTimesCount); // a's new time
        proofs.Expire(3 * interval, ProofIdleMs);
        Assert.Equal(0, proofs.ChallengeTimesCount);
    }

    [Fact]
    public void One_unproven_sender_holds_at_most_its_share_and_leaves_room_for_others()
    {
        // A flood of first contacts from one address: the first eight are kept for its proof, the
        // rest dropped, and another sender's first message is still kept.
        var proofs = new SenderProofs(maxSenders: 4_096, nowMs: 0);
        for (int i = 0; i < SenderProofs.MaxHeldPerSender; i++)
        {
            Assert.True(proofs.TryHold("flood", Message(i), offsetMs: 0, nowMs: i));
        }

        Assert.False(proofs.TryHold("flood", Message(99), offsetMs: 0, nowMs: 99));
        Assert.Equal(SenderProofs.MaxHeldPerSender, proofs.HeldCount);
        Assert.True(proofs.TryHold("other", Message(100), offsetMs: 0, nowMs: 100));

        // Its proof releases exactly what was kept, in the order it came, and nothing of the other's.
        List<HeldMessage> released = Assert.IsType<List<HeldMessage>>(proofs.Prove("flood", offsetMs: 0, nowMs: 200));
        Assert.Equal(Enumerable.Range(0, SenderProofs.MaxHeldPerSender).Select(i => (byte)i), released.Select(m => m.Bytes[0]));
        Assert.Equal(1, proofs.HeldCount);
    }

    [Fact]
    public void A_full_table_gives_up_its_oldest_held_message_and_never_grows_past_its_bound()
    {
        // Many addresses, each within its share, together past the table's bound (forged first
        // contacts from a whole subnet): the table stays at its bound and the oldest messages go.
        var proofs = new SenderProofs(maxSenders: 4_096, nowMs: 0);
        int senders = (SenderProofs.MaxHeldMessages / SenderProofs.MaxHeldPerSender) + 2;
        int n = 0;
        for (int s = 0; s < senders; s++)
        {
            for (int i = 0; i < SenderProofs.MaxHeldPerSender; i++)
            {
                Assert.True(proofs.TryHold($"s{s}", Message(i), offsetMs: 0, nowMs: n++));
                Assert.InRange(proofs.HeldCount, 1, SenderProofs.MaxHeldMessages);
            }
        }

        Assert.Equal(SenderProofs.MaxHeldMessages, proofs.HeldCount);

        // The two first senders' messages were the oldest: all given up; the last sender's all kept.
        Assert.Null(proofs.Prove("s0", offsetMs: 0, nowMs: n));
        Assert.Null(proofs.Prove("s1", offsetMs: 0, nowMs: n));
        Assert.Equal(SenderProofs.MaxHeldPerSender, proofs.Prove($"s{senders - 1}", offsetMs: 0, nowMs: n)!.Count);
        Assert.Equal(SenderProofs.MaxHeldMessages - SenderProofs.MaxHeldPerSender, proofs.HeldCount);
    }

    private static byte[] Message(int tag) => [(byte)tag, 1, 2, 3];
}
