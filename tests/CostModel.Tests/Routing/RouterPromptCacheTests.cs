using CostModel.Factors;
using CostModel.Routing;
using CostModel.Scoring;

namespace CostModel.Tests.Routing;

/// <summary>
/// A conversation's earlier turns live in the KV cache of the node that served it last: that node
/// prefills only the new turn, every other node the whole prompt. The router prices that.
/// </summary>
public sealed class RouterPromptCacheTests : IDisposable
{
    // The fixture's nodes prefill at 10 x their decode speed: 200 tokens/s.
    private const int Prompt = 4_000;
    private const int Cached = 3_500;

    private readonly RouterFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static RequestProfile Turn(string? affinity, int cached) =>
        new(RouterFixture.Model) { InputTokens = Prompt, CachedPromptTokens = cached, OutputTokens = 200, PayloadBytes = 4_000, AffinityKey = affinity };

    /// <summary>Places the conversation on "a", then makes "a" busy and "b" idle: a gap far past the hysteresis band.</summary>
    private void ConversationOnA_ThenALoaded()
    {
        _f.Add(_f.Node("a", cpu: 0.1), _f.Node("b", cpu: 0.5));
        RouteDecision first = _f.Router.Route(Turn("chat", 0));
        first.Lease.Dispose(); // no outcome: nothing learned about decode speed
        Assert.Equal("a", first.TargetId);
        _f.Add(_f.Node("a", cpu: 0.6, version: 2), _f.Node("b", cpu: 0.2, version: 2));
    }

    [Fact]
    public void The_node_holding_the_conversation_prefills_only_the_new_turn_and_keeps_it()
    {
        ConversationOnA_ThenALoaded();

        var explanation = new RouteExplanation();
        RouteDecision d = _f.Router.Route(Turn("chat", Cached), explanation);

        // a: (500 / 200 + 200 / 20) s / (1 - 0.6) = 31.25 s; b: (4,000 / 200 + 10) s / (1 - 0.2) = 37.5 s.
        Assert.Equal("a", d.TargetId);
        Assert.False(d.Flags.HasFlag(RouteNotes.Switched));
        CandidateExplanation a = explanation.Candidates.Single(c => c.TargetId == "a");
        CandidateExplanation b = explanation.Candidates.Single(c => c.TargetId == "b");
        Assert.Equal(31.25, a.Cost.ComputeLatencySeconds, 6);
        Assert.Equal(37.5, b.Cost.ComputeLatencySeconds, 6);
    }

    [Fact]
    public void Without_a_cached_prefix_the_same_gap_moves_the_conversation()
    {
        ConversationOnA_ThenALoaded();

        RouteDecision d = _f.Router.Route(Turn("chat", 0));

        // a: 30 s / 0.4 = 75 s against b's 37.5 s.
        Assert.Equal("b", d.TargetId);
        Assert.True(d.Flags.HasFlag(RouteNotes.Switched));
    }

    [Fact]
    public void The_fast_path_credits_the_cache_exactly_as_the_explained_path()
    {
        ConversationOnA_ThenALoaded();
        Assert.True(_f.Internal.FastPathEnabled);

        RouteDecision fast = _f.Router.Route(Turn("chat", Cached));
        fast.Lease.Dispose();
        var explanation = new RouteExplanation();
        RouteDecision full = _f.Router.Route(Turn("chat", Cached), explanation);

        Assert.Equal(full.TargetId, fast.TargetId);
        Assert.Equal(full.Cost, fast.Cost);
    }

    [Fact]
    public void A_cached_prefix_without_an_incumbent_earns_no_credit()
    {
        _f.Add(_f.Node("a", cpu: 0.6), _f.Node("b", cpu: 0.2));

        var explanation = new RouteExplanation();
        RouteDecision d = _f.Router.Route(Turn("new-chat", Cached), explanation);

        Assert.Equal("b", d.TargetId);
        Assert.Equal(75, explanation.Candidates.Single(c => c.TargetId == "a").Cost.ComputeLatencySeconds, 6);
    }

    [Fact]
    public void More_cached_tokens_than_the_prompt_is_refused_with_a_clear_error()
    {
        _f.Add(_f.Node("a"));
        var request = new RequestProfile(RouterFixture.Model) { InputTokens = 100, CachedPromptTokens = 101, AffinityKey = "chat" };

        ArgumentException e = Assert.Throws<ArgumentException>(() => _f.Router.Route(request));
        Assert.Contains("CachedPromptTokens", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RequestProfile(RouterFixture.Model) { CachedPromptTokens = -1 });
    }

    [Fact]
    public void An_api_endpoint_is_priced_for_the_whole_prompt_even_as_the_incumbent()
    {
        var scorer = (ICostScorer)_f.Services.GetService(typeof(ICostScorer))!;
        var price = new TokenPrice(1, 1);
        var endpoint = new CostCandidate { TargetId = "api", Model = new ServedModel(RouterFixture.Model), Price = price };

        CostBreakdown whole = scorer.Score(endpoint, Turn("chat", 0), _f.Time.GetUtcNow());
        CostBreakdown held = scorer.Score(endpoint with { HoldsPromptCache = true }, Turn("chat", Cached), _f.Time.GetUtcNow());

        Assert.Equal(whole.ComputeLatencySeconds, held.ComputeLatencySeconds);
        Assert.Equal(whole.ApiDollars, held.ApiDollars);
    }
}
