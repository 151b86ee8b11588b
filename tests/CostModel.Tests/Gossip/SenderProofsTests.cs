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
}
