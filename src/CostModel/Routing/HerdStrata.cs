namespace CostModel.Routing;

/// <summary>
/// Where in a herd draw's distribution this router draws (docs/routing-rounds.md, "The seventh round"):
/// stratified across the routers, without a word between them (systematic sampling). Every router
/// of a burst prices nearly the same candidates alike and draws from nearly the same band of the
/// herd's allocation (<see cref="HerdSpread.Draw"/>); drawn independently, a candidate's count then
/// varies by about the square root of its share, and over many candidates the busiest one's count
/// is that several times above its share. Here each router lays the band out in the same order (its
/// candidates by node id, ordinal: the same at every router, unlike an order by price, which small
/// price differences reshuffle) and draws at the quantile <c>frac(rank / routers + offset)</c>: its
/// own node id's rank among the routers the view counts (<see cref="IndexedView.RouterRank"/>; among
/// the candidates' ids where no count is known), and an offset that every router takes alike for
/// the same draw. The routers' quantiles are then evenly spaced over [0, 1), and each candidate
/// takes its share of their draws within one request, not within its square root.
/// <para>
/// The offset of a surge's k-th draw is <c>frac(k x </c><see cref="OffsetStep"/><c>)</c>: every
/// router's k-th request of a surge draws from about the same band (the k-th), and a router alone in
/// a surge still spreads its own draws (the golden-ratio steps fill [0, 1) evenly). A draw outside a
/// surge (a quiet router's draw from the usual herd) takes its offset from the time's
/// <see cref="HerdSpread.StaleWindow"/>, the same at every router at a time. Only the picker of a
/// large mesh (more than 17 routers, <see cref="HerdSpread.IsLargeMesh"/>) draws here, where a
/// burst's first requests are counted too; with them uncounted, at 48 nodes, the stratified draws
/// raised the p95 (docs/routing-rounds.md, the seventh round). Where routers see
/// different candidates (partial views) their ranks and orders differ and the draws are back
/// towards independent ones; where the router's own node is unknown, the random source draws.
/// </para>
/// </summary>
/// <param name="time">The router's clock, read once per stratified draw (a surge's count restarts after a stale window without a draw; a draw outside a surge takes the window's offset).</param>
/// <remarks>Thread-safe.</remarks>
internal sealed class HerdStrata(TimeProvider time)
{
    /// <summary>
    /// 0.618...: the fractional part of the golden ratio, the step of the offset from one draw to the
    /// next (the k-th draw's offset is frac(k x step)). Its multiples fill [0, 1) the most evenly of
    /// any step (Weyl's sequence; the three-distance theorem), so a router's successive draws in a
    /// surge cover the band as evenly as the routers' draws do.
    /// </summary>
    public const double OffsetStep = 0.6180339887498948482;

    /// <summary>2^30: the resolution of a quantile drawn from <see cref="IRandomSource.NextInt"/> (<see cref="RandomQuantile"/>).</summary>
    public const int RandomResolution = 1 << 30;

    private static readonly long WindowTicks = HerdSpread.StaleWindow.Ticks;

    // The draws of this router's current surge and the time of its last one (under the lock).
    private readonly Lock _gate = new();
    private long _surgeDraws;
    private long _lastSurgeTicks;

    /// <summary>
    /// The quantile of this router's next draw from the herd's allocation, in [0, 1), and the
    /// candidates' order of the draw: for a surge's draw (<paramref name="surge"/>) the next in the
    /// surge's count, otherwise by the time's window. Null when the routers' draws cannot be
    /// stratified (this router's own node is not in its view): draw at random then.
    /// </summary>
    /// <param name="scratch">The priced candidates (their ids, the view's group and this router's own node).</param>
    /// <param name="surge">True for a draw from a surge's herd, false for a quiet router's draw from the usual herd.</param>
    /// <param name="quantile">The quantile.</param>
    /// <returns>The draw's order, or null.</returns>
    public DrawOrder? Next(RouteScratch scratch, bool surge, out double quantile)
    {
        quantile = 0;
        string? own = scratch.Requester?.NodeId;
        if (own is null)
        {
            return null;
        }

        DrawOrder order = DrawOrder.Of(scratch, own);
        long now = time.GetUtcNow().UtcTicks;
        long step = surge ? SurgeDraw(now) : now / WindowTicks;
        // Ranked among the routers the view counts; a scratch filled by hand (no count) ranks among the candidates.
        quantile = scratch.Routers > 0 ? Quantile(scratch.RouterRank, scratch.Routers, step) : Quantile(order.Rank, order.Routers, step);
        return order;
    }

    // The count of this surge draw: the first again after a stale window without one (a decision
    // outside the surge between two draws, a clumping lull, does not start a new count: the same
    // quantile twice would put the router's own draws on one place).
    private long SurgeDraw(long nowTicks)
    {
        lock (_gate)
        {
            _surgeDraws = nowTicks - _lastSurgeTicks > WindowTicks || nowTicks < _lastSurgeTicks ? 1 : _surgeDraws + 1;
            _lastSurgeTicks = nowTicks;
            return _surgeDraws;
        }
    }

    /// <summary>The quantile of the router ranked <paramref name="rank"/> of <paramref name="routers"/> at the draw <paramref name="step"/>: frac(rank / routers + frac(step x <see cref="OffsetStep"/>)).</summary>
    /// <param name="rank">The router's rank, 0 to <paramref name="routers"/> - 1.</param>
    /// <param name="routers">How many routers rank.</param>
    /// <param name="step">The draw's step (a surge's k-th draw, or a time window's number).</param>
    /// <returns>The quantile, in [0, 1).</returns>
    public static double Quantile(int rank, int routers, long step)
    {
        // The step taken modulo a large prime first, so that the product keeps its fraction to about 1e-7 for any window count.
        double offset = Fraction((step % 1_000_000_007) * OffsetStep);
        return Fraction(((double)rank / Math.Max(routers, 1)) + offset);
    }

    /// <summary>A quantile drawn at random, in [0, 1) (independent of the other routers').</summary>
    /// <param name="random">The random source.</param>
    /// <returns>The quantile.</returns>
    public static double RandomQuantile(IRandomSource random) => random.NextInt(RandomResolution) / (double)RandomResolution;

    /// <summary>The antithetic quantile of <paramref name="quantile"/>: half a turn away.</summary>
    /// <param name="quantile">A quantile in [0, 1).</param>
    /// <returns>frac(quantile + 0.5).</returns>
    public static double Opposite(double quantile) => Fraction(quantile + 0.5);

    private static double Fraction(double x)
    {
        double f = x - Math.Floor(x);
        return f < 1 ? f : 0;
    }

    /// <summary>
    /// The order of a herd draw over one model's candidates: the view's candidates of the model (the
    /// scratch's first <see cref="ModelGroup.Count"/>) by node id, ordinal, then the rest (API endpoints)
    /// as listed; and this router's own node's rank among the candidates' ids (itself counted once,
    /// whether or not it is one of them). Built once per view and model (<see cref="ModelGroup.DrawOrder"/>)
    /// on the first draw: a view's ids never change in place.
    /// </summary>
    /// <param name="candidates">The view's candidates of the model, by id.</param>
    /// <param name="rank">This router's rank.</param>
    /// <param name="routers">How many rank: the candidates, and this router if it is not one.</param>
    internal sealed class DrawOrder(int[] candidates, int rank, int routers)
    {
        /// <summary>The view's candidates of the model (their places in the scratch), by node id.</summary>
        public int[] Candidates { get; } = candidates;

        /// <summary>This router's own node's rank among the candidates' ids.</summary>
        public int Rank { get; } = rank;

        /// <summary>How many rank.</summary>
        public int Routers { get; } = routers;

        /// <summary>The order of the scratch's model group, built and kept on the group when it has none yet.</summary>
        /// <param name="scratch">The priced candidates.</param>
        /// <param name="own">This router's own node id.</param>
        /// <returns>The order.</returns>
        public static DrawOrder Of(RouteScratch scratch, string own)
        {
            ModelGroup group = scratch.Group;
            if (group.DrawOrder is { } kept)
            {
                return kept;
            }

            int count = Math.Min(group.Count, scratch.Count);
            string[] ids = new string[count];
            int[] places = new int[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = scratch.StateAt(i).TargetId;
                places[i] = i;
            }

            Array.Sort(ids, places, StringComparer.Ordinal);
            int rank = 0;
            while (rank < count && string.CompareOrdinal(ids[rank], own) < 0)
            {
                rank++;
            }

            bool listed = rank < count && string.Equals(ids[rank], own, StringComparison.Ordinal);
            var order = new DrawOrder(places, rank, listed ? count : count + 1);

            // The shared empty group (no node serves the model) keeps nothing: it is every view's.
            if (!ReferenceEquals(group, ModelGroup.None))
            {
                group.DrawOrder = order;
            }

            return order;
        }
    }
}
