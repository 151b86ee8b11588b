using CostModel.Factors;
using CostModel.Scoring;

namespace CostModel.Routing;

/// <summary>
/// Spreads a burst the way the mesh should absorb it, when this router cannot see what the others
/// are placing (docs/routing.md, "Work other routers placed"). Every router decides on reports a
/// few seconds old; in a burst, all of them see the same cheapest node and pile onto it before its
/// next report shows the queue. So each router estimates how many requests the mesh places while
/// its view is stale (the herd, <see cref="ExpectedHerd"/>), fills the candidates' queues with
/// that many in the cheapest way (water-filling: each candidate's price rises by its queue step per
/// request, <see cref="CostBreakdown.QueueStepDollars"/>, until the marginal prices are equal), and
/// draws its target with the probability of each candidate's share of the band its own request adds
/// to that herd (<see cref="Placed"/>: the k-th requests of all routers fill the k-th band). Routers that each draw
/// from that allocation put, in expectation, the herd where a single omniscient router would have.
/// A small herd (a quiet mesh or fresh reports) leaves every request to the cheapest: the picker's
/// near-equals then decide, as before. In a large mesh the herd is taken in units of the request's
/// own weight (<see cref="Weigh"/>), so light requests reach further than heavy ones, and the draw
/// falls within the speed tier the request's size takes among the router's recent ones
/// (<see cref="WorkSizes"/>, <see cref="TierDoublings"/>): large requests to the fast nodes.
/// </summary>
/// <remarks>Thread-safe; allocation-free (the caller lends the work spans).</remarks>
internal sealed class HerdSpread
{
    /// <summary>
    /// 2.8 s: how stale a router's view of a node is when the node's queue jumps. The node samples
    /// its pending work once a second (<see cref="Collection.CollectionDefaults.SampleInterval"/>), publishes at
    /// most once a second (the gossip publication interval), and the state reaches every node of a
    /// mesh of about fifty in four gossip rounds of 200 ms (fanout 3: 3^4 = 81). Until then every
    /// router prices the node by the old report.
    /// </summary>
    public static readonly TimeSpan StaleWindow = TimeSpan.FromSeconds(2.8);

    /// <summary>
    /// 2 s: the time constant of this router's recent arrival rate, the nodes' own
    /// (<see cref="ArrivalRateMeter.DefaultTimeConstant"/>: twice the publication interval).
    /// </summary>
    public static readonly TimeSpan RecentTimeConstant = ArrivalRateMeter.DefaultTimeConstant;

    /// <summary>
    /// 60 s: the time constant of this router's usual arrival rate, against which a surge is measured
    /// (a minute of traffic; a burst of a few seconds barely moves it).
    /// </summary>
    public static readonly TimeSpan UsualRateTimeConstant = TimeSpan.FromSeconds(60);

    /// <summary>
    /// 10: how many usual time constants (<see cref="UsualRateTimeConstant"/>, so 10 minutes) the
    /// router's two rates are corrected for their start (<see cref="Arrived(DateTimeOffset)"/>): both
    /// are averages that decay from zero, and until the router has watched for several time constants
    /// they read low by the factor 1 - e^(-age / time constant), the usual one for minutes. Divided by
    /// it (the bias correction of an exponentially weighted average started at zero, as Adam's moment
    /// estimates are corrected), a router's first minutes of steady traffic no longer read as a surge
    /// (a usual rate still near zero under a recent rate already full), which made a router of a mesh
    /// just started spread its requests onto dearer targets for a minute or two (the mesh demo's jobs
    /// went to the paid API). After 10 time constants the factor is within 5e-5 of 1 and is no longer
    /// worked out. The age is taken as at least <see cref="RecentTimeConstant"/>: a router's first
    /// request is not read as a rate of thousands a second.
    /// </summary>
    public const double StartUpTimeConstants = 10;

    /// <summary>
    /// 2 requests per recent time constant (<see cref="ArrivalRateMeter.DefaultTimeConstant"/>, 2 s):
    /// the rise of the recent rate above the usual one that is Poisson clumping, not a surge. At
    /// 6 requests a minute two arrive within 2 s every few minutes; three within 2 s in under 0.1 %
    /// of such windows.
    /// </summary>
    public const double ClumpRequests = 2;

    /// <summary>
    /// 32 requests: the most a burst's first requests may add up to across the mesh before they are
    /// counted (the other routers x <see cref="ClumpRequests"/>, each placing its first ones on the
    /// cheapest and its near-equals): a mesh of more than 17 routers is large. Beyond it
    /// <see cref="LargeMeshClumpRequests"/> applies. At 99 other routers (198 requests, a third of
    /// mesh-burst-100's burst) the fastest nodes took 2.2x the oracle's share; at 47 (mesh-burst-48's
    /// 94, under the former bound of 96) the uncounted first requests, all on the four GPU boxes,
    /// were 41 to 76 % of the burst's cost above the oracle's, and the large-mesh rules lowered the
    /// total at 11 of seeds 1 to 12 (docs/routing-rounds.md, "The eighth round"). The meshes where a false
    /// surge spread onto a crashed or cut-off node (4 and 5 nodes) stay far below it.
    /// </summary>
    public const double UncountedHerd = 32;

    /// <summary>
    /// 1.5 requests per recent time constant: in a mesh whose uncounted first requests would pass
    /// <see cref="UncountedHerd"/>, a surge is a second request within about 1.4 s (2 s x ln 2) of
    /// the first, and once it is one the herd counts the router's whole rise above its usual rate,
    /// first requests included (the other routers placed theirs in the same stale window). A false
    /// surge there spreads a few requests over a hundred nodes; a missed one herds hundreds.
    /// </summary>
    public const double LargeMeshClumpRequests = 1.5;

    /// <summary>
    /// 1 request: below this expected herd the cheapest takes the request (nothing to spread; the
    /// picker's near-equals decide, as without this estimate).
    /// </summary>
    public const double MinHerd = 1;

    /// <summary>
    /// 1 request per <see cref="StaleWindow"/>: a router whose usual rate is below this is quiet, and
    /// in a large mesh draws even its requests outside a surge from the allocation of the usual herd
    /// (<see cref="UsualHerd"/>). A router at least this busy does not: the draw would cost each of its
    /// many decisions a pass over the candidates, and a quiet router's few decisions cost little in all
    /// (at most about one per stale window).
    /// </summary>
    public const double QuietRequestsPerWindow = 1;

    /// <summary>
    /// 0.25: the least a request's weight counts against the router's usual weight
    /// (<see cref="Weigh"/>): a background request (a twentieth of a normal one's value of time by
    /// default) sees at most four times the herd, not twenty, so the band stays within the herd's
    /// reach rather than covering every candidate.
    /// </summary>
    public const double MinWeightRatio = 0.25;

    /// <summary>
    /// 4: the most a request's weight counts against the router's usual weight (<see cref="Weigh"/>):
    /// a long interactive request sees at least a quarter of the herd, so it is still drawn, not left
    /// to the cheapest with every other heavy request.
    /// </summary>
    public const double MaxWeightRatio = 4;

    /// <summary>
    /// 1 doubling: how wide a speed tier of a sorted draw is (<see cref="Draw"/>), in doublings of the
    /// queue step counted from the fastest candidate's: with 1, steps 1 to 2 times the fastest are the
    /// first tier, 2 to 4 the second (the tier is the binary exponent of the ratio over this). The
    /// classes of machine a mesh mixes differ by more per request (`mesh-burst-48`'s GPU boxes,
    /// desktops and small machines: queue steps about 0.8, 3.8 and 19 s for the same request), and
    /// nodes of one class by their load and contention, less. Finer tiers split a class by noise;
    /// coarser ones merge classes and sort less (3, a factor of 8: the burst scenarios' summed total
    /// 0.3 % higher; 2, a factor of 4: 0.25 %; benchmarks/README.md, "Sorting the herd by size").
    /// </summary>
    public const int TierDoublings = 1;

    /// <summary>16: the most speed tiers (<see cref="TierDoublings"/>); a step past the fifteenth tier's (2^15 times the fastest, at one doubling) joins the last.</summary>
    public const int MaxTiers = 16;

    /// <summary>
    /// 1 ms: the arrival counts are decayed only once the clock has moved at least this much since
    /// they last were; an arrival within it is counted as of that last decay. A router deciding more
    /// than a thousand times a second then works out the two exponentials (four in its first ten
    /// minutes, <see cref="StartUpTimeConstants"/>) once a millisecond instead of per decision.
    /// Error bound: every arrival's weight in a count is off by a factor between
    /// e^(-quantum / time constant) and e^(quantum / time constant) (it is decayed from the last decay
    /// before it, up to the last decay before the reading), so each count, and each rate, is within
    /// 0.05 % of the exact decay for the recent rate (1 ms / <see cref="RecentTimeConstant"/>, 2 s) and
    /// 0.0017 % for the usual rate and weight (1 ms / <see cref="UsualRateTimeConstant"/>, 60 s):
    /// far below the surge's allowance of <see cref="ClumpRequests"/> requests.
    /// </summary>
    public static readonly TimeSpan DecayQuantum = TimeSpan.FromMilliseconds(1);

    // The level's work: the totals and queue steps of the candidates below the herd's top, sorted
    // (one pair per routing thread, grown to the largest mesh seen; no allocation once grown).
    [ThreadStatic]
    private static double[]? t_levelTotals;
    [ThreadStatic]
    private static double[]? t_levelSteps;

    // A sorted draw's band shares, per routing thread (BandWork).
    [ThreadStatic]
    private static double[]? t_bands;

    // The two time constants in seconds, static so that the JIT takes them as constants: the
    // division by the recent one (2 s) is then a multiplication by 0.5, the same bits for no divider.
    private static readonly double RecentSeconds = RecentTimeConstant.TotalSeconds;
    private static readonly double UsualSeconds = UsualRateTimeConstant.TotalSeconds;

    // The quantum in ticks, static for the same reason.
    private static readonly long DecayQuantumTicks = DecayQuantum.Ticks;

    // One gate over both counts (this router's arrivals decaying with the recent and the usual time
    // constants), the usual weight and the time they were decayed to: one entry per decision and, once
    // the clock moved a quantum, two exponentials (the router passes the time it read; this class
    // reads no clock then).
    private readonly SpinGate _gate = new();
    private readonly TimeProvider _time;
    private double _recentCount;
    private double _usualCount;
    private double _usualWeight;
    private double _usualWeighed;
    private long _atTicks;

    // The start-up correction of the two rates (StartUpTimeConstants): the time the router was built,
    // each rate's factor as of the last decay (1 once the router is old enough), and whether it is still worked out.
    private readonly long _bornTicks;
    private double _recentScale;
    private double _usualScale;
    private bool _young = true;

    // The usual rate as of the last arrival, written under the gate, read without it (UsualRate).
    private double _usualRate;

    // Every arrival counted, written under the gate, read without it (Arrivals).
    private long _arrivals;

    // The sizes of the requests weighed lately, under the gate (Weigh).
    private readonly WorkSizes _sizes = new();

    /// <summary>Creates the estimator.</summary>
    /// <param name="time">The router's clock (read only by the overloads that take no time).</param>
    public HerdSpread(TimeProvider time)
        : this(time, time?.GetUtcNow() ?? default)
    {
    }

    /// <summary>Creates the estimator with its rates counted from <paramref name="startedAt"/> (a router that has routed since then: its start-up correction, <see cref="StartUpTimeConstants"/>, is as of that time).</summary>
    /// <param name="time">The router's clock.</param>
    /// <param name="startedAt">When the rates started counting; <see cref="StartUpAge"/> or more before now for a router past its start-up.</param>
    internal HerdSpread(TimeProvider time, DateTimeOffset startedAt)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _atTicks = time.GetUtcNow().UtcTicks;
        _bornTicks = startedAt.UtcTicks;
        Rescale(_atTicks);
    }

    /// <summary>10 minutes: <see cref="StartUpTimeConstants"/> usual time constants, the age from which the rates are not corrected for their start.</summary>
    internal static TimeSpan StartUpAge => StartUpTimeConstants * UsualRateTimeConstant;

    /// <summary>Counts a request this router is asked to route, now by its clock.</summary>
    public void Arrived() => Arrived(_time.GetUtcNow());

    /// <summary>
    /// Counts a request this router is asked to route at <paramref name="now"/> (the time the router
    /// read for the decision) and returns its surge then (<see cref="Rise()"/>, the request counted).
    /// </summary>
    /// <param name="now">The decision's time.</param>
    /// <returns>The recent rate above the usual one, requests per second.</returns>
    public double Arrived(DateTimeOffset now)
    {
        long ticks = now.UtcTicks;
        using (_gate.Enter())
        {
            DecayTo(ticks);
            _recentCount++;
            _usualCount++;
            Volatile.Write(ref _arrivals, _arrivals + 1);
            double usualRate = Rate(_usualCount * _usualScale, UsualSeconds);
            Volatile.Write(ref _usualRate, usualRate);
            return Rate(_recentCount * _recentScale, RecentSeconds) - usualRate;
        }
    }

    /// <summary>The requests this router was asked to route since it was built (what <see cref="Collection.RoutedRate"/> reads).</summary>
    public long Arrivals => Volatile.Read(ref _arrivals);

    /// <summary>This router's usual arrival rate (time constant <see cref="UsualRateTimeConstant"/>) as of its last arrival, requests per second: what <see cref="UsualHerd"/> takes.</summary>
    public double UsualRate => Volatile.Read(ref _usualRate);

    /// <summary>This router's recent arrival rate above its usual one now by its clock, requests per second (negative after a surge).</summary>
    /// <returns>The rise.</returns>
    public double Rise()
    {
        long ticks = _time.GetUtcNow().UtcTicks;
        using (_gate.Enter())
        {
            DecayTo(ticks);
            return Rate(_recentCount * _recentScale, RecentSeconds) - Rate(_usualCount * _usualScale, UsualSeconds);
        }
    }

    /// <summary>
    /// The requests the other routers are expected to place while this router's view is stale: this
    /// router's surge (its recent rate above its usual rate, less <see cref="ClumpRequests"/>; in a
    /// mesh of more than <see cref="UncountedHerd"/> / <see cref="ClumpRequests"/> other routers, the
    /// whole rise once it passes <see cref="LargeMeshClumpRequests"/>) at each of them, over <see cref="StaleWindow"/>. A surge at one router is taken as a surge at
    /// every router (a burst hits many at once, and no router sees the others' surge before their
    /// nodes report it); traffic at the usual rate is already in the nodes' reported arrival rates,
    /// which the prices extrapolate, and this router's own placements are in its prices.
    /// </summary>
    /// <param name="routers">How many routers may be placing: the candidates (every mesh node serving the model may route too; the few API endpoints count alike), at least 1.</param>
    /// <returns>The expected herd, requests.</returns>
    public double ExpectedHerd(int routers) => Herd(Rise(), routers);

    /// <summary>The expected herd (<see cref="ExpectedHerd"/>) of a router whose recent rate is <paramref name="rise"/> above its usual one.</summary>
    /// <param name="rise">The rise (<see cref="Arrived(DateTimeOffset)"/>, <see cref="Rise()"/>), requests per second.</param>
    /// <param name="routers">How many routers may be placing, at least 1.</param>
    /// <returns>The expected herd, requests.</returns>
    public static double Herd(double rise, int routers)
    {
        double surge;
        if (IsLargeMesh(routers))
        {
            // A large mesh: a rise past the lower allowance is a surge, counted in full.
            surge = IsLargeMeshSurge(rise) ? rise : 0;
        }
        else
        {
            // A small mesh: the allowance is Poisson clumping, discounted from the rise.
            surge = rise - (ClumpRequests / RecentSeconds);
            surge = surge > 0 ? surge : 0;
        }

        return OverStaleWindow(surge, routers);
    }

    /// <summary>
    /// The requests the other routers place at their usual rate while this router's view is stale,
    /// taken in a mesh where a burst's first requests would pass <see cref="UncountedHerd"/> (the
    /// size beyond which <see cref="LargeMeshClumpRequests"/> applies) by a quiet router (usual rate
    /// below <see cref="QuietRequestsPerWindow"/>); 0 otherwise. No router can tell a burst's first
    /// request from usual traffic: below the surge threshold each placed it on the cheapest and its
    /// near-equals, the same few nodes at every router (all see the same reports), and at 500 routers
    /// those first requests were a sixth of the burst. The reports' arrival rates already price where
    /// the usual traffic goes on average, not where its next requests land; drawing a request outside
    /// a surge from the allocation of this usual herd spreads it over the places that the mesh's
    /// next requests fill anyway (in a quiet mesh of 500 at 1 request a minute a router, 23 requests:
    /// the fast nodes, near-equals all), so a burst's first requests, one a router, are spread as
    /// widely as that allocation instead of piling on the cheapest (docs/routing-rounds.md, "The fifth round").
    /// </summary>
    /// <param name="usualRate">This router's usual rate (<see cref="UsualRate"/>), requests per second.</param>
    /// <param name="routers">How many routers may be placing (the candidates), at least 1.</param>
    /// <returns>The usual herd, requests (0 in a small mesh or at a busy router).</returns>
    public static double UsualHerd(double usualRate, int routers)
    {
        double perWindow = usualRate * StaleWindow.TotalSeconds;
        if (!IsLargeMesh(routers) || !(perWindow < QuietRequestsPerWindow) || !(perWindow > 0))
        {
            return 0;
        }

        return Others(routers) * perWindow;
    }

    /// <summary>
    /// The requests the other routers place at the rates they report (<see cref="PendingWork.RoutedPerSecond"/>)
    /// while this router's view is stale, taken by a busy router (at least <see cref="QuietRequestsPerWindow"/>
    /// a stale window); 0 at a quiet one (which takes <see cref="UsualHerd"/>). The reports' arrival rates
    /// price where the usual traffic goes on average; drawing a busy router's request from this herd's
    /// allocation, weighed, spreads it over the places the mesh's next requests fill and sorts light
    /// requests onto the slow ones: measured with gateways routing a request a second each for 48 and
    /// 100 nodes (docs/routing.md, "How many routers"). Only among many candidates (<see cref="WeighsAmong"/>).
    /// </summary>
    /// <param name="usualRate">This router's usual rate (<see cref="UsualRate"/>), requests per second.</param>
    /// <param name="otherRoutedRate">The rates the other routers report, summed (<see cref="IndexedView.OtherRoutedRate"/>), requests per second.</param>
    /// <returns>The busy router's usual herd, requests.</returns>
    public static double BusyHerd(double usualRate, double otherRoutedRate) =>
        usualRate * StaleWindow.TotalSeconds >= QuietRequestsPerWindow && otherRoutedRate > 0 && double.IsFinite(otherRoutedRate)
            ? otherRoutedRate * StaleWindow.TotalSeconds
            : 0;

    /// <summary>
    /// A request's work in seconds at the scoring priors (<see cref="ScoringDefaults.PrefillTokensPerSecondPrior"/>,
    /// <see cref="ScoringDefaults.DecodeTokensPerSecondPrior"/>): a measure of its size the same on every node,
    /// of which only ratios are used (<see cref="Weigh"/>).
    /// </summary>
    /// <param name="request">The request.</param>
    /// <returns>Its work, seconds at the priors.</returns>
    public static double Work(RequestProfile request) =>
        (request.InputTokens / ScoringDefaults.PrefillTokensPerSecondPrior) + (request.OutputTokens / ScoringDefaults.DecodeTokensPerSecondPrior);

    /// <summary>True in a mesh whose uncounted first requests would pass <see cref="UncountedHerd"/> (more than 17 routers).</summary>
    /// <param name="routers">How many routers may be placing (the candidates).</param>
    /// <returns>True when the mesh is that large.</returns>
    public static bool IsLargeMesh(int routers) => Others(routers) * ClumpRequests > UncountedHerd;

    /// <summary>
    /// True where a herd is weighed (<see cref="Weigh"/>): among more than 17 candidates, the meshes
    /// where weighing was measured to help (docs/routing-rounds.md, "The sixth round"). Judged by the
    /// candidates, not the routers: a few gateways routing for many nodes sort their herd by weight
    /// as a mesh of as many routers does, and in the 4- and 5-node meshes a light request's wider band
    /// reached a crashed or cut-off node.
    /// </summary>
    /// <param name="candidates">The candidates of the decision.</param>
    /// <returns>True when the herd is weighed.</returns>
    public static bool WeighsAmong(int candidates) => IsLargeMesh(candidates);

    /// <summary>
    /// Counts a request's weight (its value of time x its <see cref="Work"/>) in this router's usual
    /// weight (time constant <see cref="UsualRateTimeConstant"/>) and returns its weight over that
    /// usual one, within <see cref="MinWeightRatio"/> and <see cref="MaxWeightRatio"/> (1 without a
    /// weight). The picker of a large mesh divides the herd by it: the herd's requests weigh, on
    /// average, the usual weight, so in units of this request's own queue step (its service at its
    /// value) the herd is that many times deeper for a light request (short, or of little value:
    /// it reaches slower places, and delays fewer of the herd's requests there) and shallower for a
    /// heavy one (it stays on the fast places) (docs/routing-rounds.md, "The sixth round"). Also places the
    /// request's size among the sizes this router weighed lately (<see cref="WorkSizes.Place"/>), by
    /// which the draw takes its speed tier (<see cref="Draw"/>).
    /// </summary>
    /// <param name="weight">The request's value of time x work, dollars.</param>
    /// <param name="work">The request's work (<see cref="Work"/>), seconds at the scoring priors.</param>
    /// <param name="sizePlace">Where its size falls among the recent ones by work (<see cref="WorkSizes.Place"/>): the lower end and the width, in [0, 1].</param>
    /// <returns>The ratio.</returns>
    public double Weigh(double weight, double work, out (double Low, double Width) sizePlace)
    {
        using (_gate.Enter())
        {
            sizePlace = _sizes.Place(work);
            if (!(weight > 0) || !double.IsFinite(weight))
            {
                return 1;
            }

            // The counts were decayed to this decision's time by its arrival (Arrived).
            _usualWeight += weight;
            _usualWeighed++;
            return Math.Clamp(weight * _usualWeighed / _usualWeight, MinWeightRatio, MaxWeightRatio);
        }
    }

    /// <summary>
    /// The part of the expected herd (<see cref="Herd"/>) that the other routers placed before this
    /// router's request: the herd of the rise without this request's arrival (1 /
    /// <see cref="RecentTimeConstant"/> of recent rate, 1 / <see cref="UsualRateTimeConstant"/> of
    /// usual rate). Each request of a surge then stands for the band of the herd its own arrival
    /// adds, and a router's successive requests sweep the allocation from the cheapest places up,
    /// as every other router's do. In a large mesh (<see cref="IsLargeMesh"/>), once this request's
    /// rise is a surge the rise without it counts in full, below <see cref="LargeMeshClumpRequests"/>
    /// too: the herd counts a surge's first requests there, so the herd placed before the second
    /// request holds the first ones (which a quiet router drew from the usual herd's allocation, the
    /// cheapest places), and the second request's band starts above them instead of at the cheapest
    /// again (docs/routing-rounds.md, "The ninth round").
    /// </summary>
    /// <param name="rise">The rise with this request counted (<see cref="Arrived(DateTimeOffset)"/>), requests per second.</param>
    /// <param name="routers">How many routers may be placing, at least 1.</param>
    /// <returns>The herd placed before this request, requests (0 when this request's rise is no surge).</returns>
    public static double Placed(double rise, int routers)
    {
        double before = rise - (1 / RecentSeconds) + (1 / UsualSeconds);
        if (!IsLargeMesh(routers))
        {
            return Herd(before, routers);
        }

        return IsLargeMeshSurge(rise) && before > 0 ? OverStaleWindow(before, routers) : 0;
    }

    /// <summary>
    /// Draws two candidates from this request's band of the water-filling allocation of the herd
    /// over the admitted candidates: what each candidate takes of <paramref name="herd"/> requests
    /// beyond what it takes of the <paramref name="placed"/> ones before it, laid out in
    /// <paramref name="order"/> and drawn at two quantiles (the caller keeps the one with fewer of its
    /// own requests in flight per share: two choices, as in the picker's spread, which evens out one
    /// router's own draws). Every router's k-th request of a surge draws from the k-th band, so
    /// together the routers fill the allocation of the whole herd once, cheapest places first,
    /// instead of each drawing from the allocation of the herd it expected so far (the early ones,
    /// expecting little, all drew from the cheapest places); with the quantiles stratified across the
    /// routers (<see cref="HerdStrata"/>) each candidate takes its share of their draws within about
    /// one request. With the request's size place (<see cref="Weigh"/>) the band is cut into speed
    /// tiers (<see cref="TierDoublings"/>), fastest first, and both draws fall within the tier where
    /// that place falls by the tiers' shares: the herd's largest requests, by work, take the fastest
    /// tier's share, its smallest the slowest's (docs/routing.md, "Sorting the herd by size"). Returns
    /// -1 when the herd is below <see cref="MinHerd"/>, or when it all goes to the cheapest.
    /// </summary>
    /// <param name="verdicts">The candidates' verdicts.</param>
    /// <param name="totals">The candidates' adjusted totals.</param>
    /// <param name="costs">The candidates' costs (their queue steps).</param>
    /// <param name="admit">The worst verdict admitted.</param>
    /// <param name="best">The cheapest admitted candidate.</param>
    /// <param name="herd">The expected herd with this request (<see cref="Herd"/>).</param>
    /// <param name="placed">The herd placed before this request (<see cref="Placed"/>; 0 draws from the whole allocation).</param>
    /// <param name="order">The first candidates in the order of the band's layout (<see cref="HerdStrata.DrawOrder.Candidates"/>; the candidates after them follow in place); empty: all in place.</param>
    /// <param name="quantile">Where in the band (or its tier) the first draw falls, in [0, 1) (<see cref="HerdStrata"/>; the second half a turn away, <see cref="HerdStrata.Opposite"/>); NaN: both at random.</param>
    /// <param name="sizePlace">Where the request's size falls among the recent ones by work, in [0, 1] (<see cref="WorkSizes.Place"/>: 0 the largest); NaN: the whole band, no tiers.</param>
    /// <param name="random">The random source of draws at random.</param>
    /// <param name="work">Room for every candidate.</param>
    /// <param name="rival">The second draw (may be the first again).</param>
    /// <param name="share">The first draw's share of the band, requests.</param>
    /// <param name="rivalShare">The second draw's share.</param>
    /// <returns>The first draw, or -1.</returns>
    public static int Draw(ReadOnlySpan<byte> verdicts, ReadOnlySpan<double> totals, ReadOnlySpan<CostBreakdown> costs, byte admit, int best, double herd, double placed, ReadOnlySpan<int> order, double quantile, double sizePlace, IRandomSource random, Span<int> work, out int rival, out double share, out double rivalShare)
    {
        rival = -1;
        share = 0;
        rivalShare = 0;
        if (!(herd >= MinHerd))
        {
            return -1;
        }

        double cheapest = totals[best];
        double bestStep = costs[best].QueueStepDollars;
        if (!(bestStep > 0) || !double.IsFinite(cheapest))
        {
            // The cheapest has no queue (an API endpoint, or a custom scorer's price): it takes the herd.
            return -1;
        }

        // The level can rise no higher than the cheapest alone absorbing the herd; only candidates
        // below that level take a share.
        double top = cheapest + (herd * bestStep);
        int kept = 0;
        for (int k = 0; k < order.Length; k++)
        {
            int i = order[k];
            if (verdicts[i] <= admit && totals[i] < top)
            {
                work[kept++] = i;
            }
        }

        for (int i = order.Length; i < verdicts.Length; i++)
        {
            if (verdicts[i] <= admit && totals[i] < top)
            {
                work[kept++] = i;
            }
        }

        if (kept <= 1)
        {
            return -1;
        }

        placed = placed > 0 ? Math.Min(placed, herd) : 0;
        Span<int> candidates = work[..kept];
        double level = Levels(totals, costs, candidates, herd, placed, out double below);

        // The band's shares; for a sorted draw kept (in the order of the candidates) with the fastest queue step.
        bool sorted = !double.IsNaN(sizePlace);
        Span<double> bands = sorted ? BandWork(kept) : default;
        double fastest = double.PositiveInfinity;
        double sum = 0;
        for (int k = 0; k < kept; k++)
        {
            double step = costs[candidates[k]].QueueStepDollars;
            double band = Band(totals[candidates[k]], step, level, below, herd, placed);
            sum += band;
            if (sorted)
            {
                bands[k] = band;
                fastest = step > 0 && step < fastest ? step : fastest;
            }
        }

        if (!(sum > 0))
        {
            // Nothing left between the two levels (the band rounded away): the cheapest takes it.
            return -1;
        }

        if (sorted)
        {
            candidates = candidates[..Tier(costs, candidates, bands, fastest, sizePlace, ref sum)];
        }

        bool atRandom = double.IsNaN(quantile);
        double firstAt = atRandom ? HerdStrata.RandomQuantile(random) : quantile;
        double rivalAt = atRandom ? HerdStrata.RandomQuantile(random) : HerdStrata.Opposite(quantile);
        int first = Pick(totals, costs, candidates, level, below, herd, placed, firstAt * sum, out share);
        rival = Pick(totals, costs, candidates, level, below, herd, placed, rivalAt * sum, out rivalShare);
        return first;
    }

    /// <summary>
    /// Moves the candidates of the speed tier where <paramref name="sizePlace"/> falls to the front of
    /// <paramref name="candidates"/>, in their order (the tiers laid out fastest first, each as wide as
    /// its candidates' shares of the band, <paramref name="bands"/>), returns how many they are, and
    /// sets <paramref name="sum"/> to that tier's share. A request at place 0 (the largest) takes the
    /// fastest tier, one at place 1 the slowest with a share. All of them, as they are, when no
    /// candidate has a queue step.
    /// </summary>
    private static int Tier(ReadOnlySpan<CostBreakdown> costs, Span<int> candidates, ReadOnlySpan<double> bands, double fastest, double sizePlace, ref double sum)
    {
        if (!double.IsFinite(fastest))
        {
            return candidates.Length;
        }

        double perFastest = 1 / fastest;
        Span<double> shares = stackalloc double[MaxTiers];
        shares.Clear();
        for (int k = 0; k < candidates.Length; k++)
        {
            shares[TierOf(costs[candidates[k]].QueueStepDollars, fastest, perFastest)] += bands[k];
        }

        // The tier whose stretch of the band holds the place; past the last share (rounding, or place 1), the slowest with one.
        double at = Math.Clamp(sizePlace, 0, 1) * sum;
        int tier = 0;
        while (tier < MaxTiers - 1 && !(at < shares[tier]))
        {
            at -= shares[tier];
            tier++;
        }

        while (tier > 0 && !(shares[tier] > 0))
        {
            tier--;
        }

        if (!(shares[tier] > 0))
        {
            return candidates.Length;
        }

        int kept = 0;
        foreach (int i in candidates)
        {
            if (TierOf(costs[i].QueueStepDollars, fastest, perFastest) == tier)
            {
                candidates[kept++] = i;
            }
        }

        sum = shares[tier];
        return kept;
    }

    // Room for the band's shares of a sorted draw (one per routing thread, grown to the largest mesh seen).
    private static Span<double> BandWork(int count)
    {
        if (t_bands is null || t_bands.Length < count)
        {
            t_bands = new double[Math.Max(count, (t_bands?.Length ?? 0) * 2)];
        }

        return t_bands.AsSpan(0, count);
    }

    // A queue step's speed tier: the binary exponent of its ratio to the fastest's over TierDoublings,
    // within MaxTiers; no step (an API endpoint without a queue) is in the fastest. The ratio of a step
    // above the fastest's rounds to 1 or more (even the next double up), a normal number or infinity,
    // whose exponent field less its bias is its floor(log2); the clamp at 0 guards the index all the same.
    private static int TierOf(double step, double fastest, double perFastest) =>
        step > fastest ? Math.Clamp((((int)((BitConverter.DoubleToInt64Bits(step * perFastest) >> 52) & 0x7FF)) - 1023) / TierDoublings, 0, MaxTiers - 1) : 0;

    // The routers other than this one among those that may be placing.
    private static int Others(int routers) => routers > 1 ? routers - 1 : 0;

    // True when a large mesh's rise is a surge: past LargeMeshClumpRequests per recent time constant.
    private static bool IsLargeMeshSurge(double rise) => rise > LargeMeshClumpRequests / RecentSeconds;

    // The requests the other routers place at a surge of this rate (requests per second each) over the stale window.
    private static double OverStaleWindow(double surge, int routers) => Others(routers) * surge * StaleWindow.TotalSeconds;

    // A count's rate over its time constant, capped as a node's meter caps it.
    private static double Rate(double count, double timeConstantSeconds) =>
        Math.Min(count / timeConstantSeconds, PendingWork.MaxArrivalsPerSecond);

    // Decays the counts and the usual weight to nowTicks, under the gate, once the clock has moved at
    // least DecayQuantum since they were last decayed (before that, nothing: an arrival meanwhile is
    // counted as of the last decay); a clock set back leaves them as they are (no growth from a
    // negative interval).
    private void DecayTo(long nowTicks)
    {
        if (nowTicks - _atTicks >= DecayQuantumTicks)
        {
            double seconds = (nowTicks - _atTicks) / (double)TimeSpan.TicksPerSecond;
            _recentCount *= Math.Exp(-seconds / RecentSeconds);
            double fade = Math.Exp(-seconds / UsualSeconds);
            _usualCount *= fade;
            _usualWeight *= fade;
            _usualWeighed *= fade;
            _atTicks = nowTicks;
            if (_young)
            {
                Rescale(nowTicks);
            }
        }
    }

    // The start-up correction as of nowTicks (StartUpTimeConstants): each rate divided by
    // 1 - e^(-age / its time constant), the age at least the recent time constant; 1 from
    // StartUpTimeConstants usual time constants on, after which it is not worked out again.
    private void Rescale(long nowTicks)
    {
        double age = Math.Max((nowTicks - _bornTicks) / (double)TimeSpan.TicksPerSecond, RecentSeconds);
        if (age >= StartUpTimeConstants * UsualSeconds)
        {
            _recentScale = 1;
            _usualScale = 1;
            _young = false;
            return;
        }

        _recentScale = 1 / (1 - Math.Exp(-age / RecentSeconds));
        _usualScale = 1 / (1 - Math.Exp(-age / UsualSeconds));
    }

    /// <summary>True when the first draw has no more of this router's requests in flight per share of the herd than the second.</summary>
    /// <param name="aInFlight">This router's requests in flight on the first draw.</param>
    /// <param name="aShare">Its share.</param>
    /// <param name="bInFlight">On the second draw.</param>
    /// <param name="bShare">Its share.</param>
    /// <returns>True to keep the first draw.</returns>
    public static bool KeepFirst(int aInFlight, double aShare, int bInFlight, double bShare) =>
        aInFlight * bShare <= bInFlight * aShare;

    /// <summary>The candidate where the cumulative band shares pass <paramref name="draw"/>.</summary>
    private static int Pick(ReadOnlySpan<double> totals, ReadOnlySpan<CostBreakdown> costs, ReadOnlySpan<int> kept, double level, double below, double herd, double placed, double draw, out double share)
    {
        for (int k = 0; k < kept.Length; k++)
        {
            share = Band(totals[kept[k]], costs[kept[k]].QueueStepDollars, level, below, herd, placed);
            draw -= share;
            if (draw < 0)
            {
                return kept[k];
            }
        }

        // Rounding left the draw unspent: the last candidate with a share.
        for (int k = kept.Length - 1; k >= 0; k--)
        {
            share = Band(totals[kept[k]], costs[kept[k]].QueueStepDollars, level, below, herd, placed);
            if (share > 0)
            {
                return kept[k];
            }
        }

        share = 0;
        return kept[^1];
    }

    /// <summary>A candidate's share of the band: what it takes below the herd's level less what it takes below the placed herd's.</summary>
    private static double Band(double total, double step, double level, double below, double herd, double placed) =>
        Math.Max(0, Share(total, step, level, herd) - Share(total, step, below, placed));

    /// <summary>Requests a candidate takes below the level; a candidate without a queue step (no queue: an API endpoint) could take the whole herd once below it.</summary>
    private static double Share(double total, double step, double level, double herd)
    {
        if (total >= level)
        {
            return 0;
        }

        return step > 0 ? (level - total) / step : herd;
    }

    /// <summary>
    /// The water levels at which the candidates' shares add up to <paramref name="herd"/> (returned)
    /// and to <paramref name="placed"/> (<paramref name="below"/>): the candidates sorted by total
    /// once, then walked from the cheapest for each (<see cref="Walk"/>). O(n log n) for the sort,
    /// O(n) for each walk.
    /// </summary>
    internal static double Levels(ReadOnlySpan<double> totals, ReadOnlySpan<CostBreakdown> costs, ReadOnlySpan<int> kept, double herd, double placed, out double below)
    {
        int n = kept.Length;
        if (t_levelTotals is null || t_levelTotals.Length < n)
        {
            int size = Math.Max(n, (t_levelTotals?.Length ?? 0) * 2);
            t_levelTotals = new double[size];
            t_levelSteps = new double[size];
        }

        Span<double> sortedTotals = t_levelTotals.AsSpan(0, n);
        Span<double> sortedSteps = t_levelSteps.AsSpan(0, n);
        for (int k = 0; k < n; k++)
        {
            sortedTotals[k] = totals[kept[k]];
            sortedSteps[k] = costs[kept[k]].QueueStepDollars;
        }

        sortedTotals.Sort(sortedSteps);
        below = placed > 0 ? Walk(sortedTotals, sortedSteps, placed) : sortedTotals[0];
        return Walk(sortedTotals, sortedSteps, herd);
    }

    /// <summary>
    /// The level over candidates sorted by total: walked from the cheapest while the level the ones
    /// so far would reach with the whole herd, (herd + sum of total / step) / (sum of 1 / step), is
    /// above the next one's total. A candidate without a queue step absorbs the whole herd once the
    /// level passes it: the level stops just above its total.
    /// </summary>
    private static double Walk(ReadOnlySpan<double> sortedTotals, ReadOnlySpan<double> sortedSteps, double herd)
    {
        double inverseSteps = 0;
        double weightedTotals = 0;
        for (int k = 0; k < sortedTotals.Length; k++)
        {
            double total = sortedTotals[k];
            if (inverseSteps > 0 && (herd + weightedTotals) / inverseSteps <= total)
            {
                break;
            }

            double step = sortedSteps[k];
            if (!(step > 0))
            {
                return Math.BitIncrement(total);
            }

            inverseSteps += 1 / step;
            weightedTotals += total / step;
        }

        return (herd + weightedTotals) / inverseSteps;
    }
}
