namespace CostModel.Scoring;

/// <summary>
/// Every default of the cost model, with its unit and where the number comes from. The
/// rationale is repeated in <c>docs/cost-model.md</c>.
/// </summary>
public static class ScoringDefaults
{
    // ---- Value of time -------------------------------------------------------------------

    /// <summary>
    /// 0.01 $/s ($36 an hour) for an ordinary request: about the hourly cost of a knowledge
    /// worker's time (US median wage about $30/h in 2025, BLS); waiting ten seconds is worth ten cents.
    /// </summary>
    public static readonly double NormalValueOfTimeDollarsPerSecond = 0.01;

    /// <summary>0.03 $/s for interactive requests: a person is actively waiting, so delay also costs attention (3 x the ordinary figure; tune with the simulator).</summary>
    public static readonly double InteractiveValueOfTimeDollarsPerSecond = 0.03;

    /// <summary>0.0005 $/s ($1.80 an hour) for background work: batch jobs can wait; energy and money then dominate.</summary>
    public static readonly double BackgroundValueOfTimeDollarsPerSecond = 0.0005;

    // ---- Energy --------------------------------------------------------------------------

    /// <summary>0.17 $/kWh: US average residential electricity price 2025 (EIA Electric Power Monthly); EU households pay about 0.29 EUR/kWh.</summary>
    public static readonly double ElectricityDollarsPerKilowattHour = 0.17;

    /// <summary>
    /// 65 W: the marginal draw of running inference when the node reports no power figure of
    /// its own: a desktop CPU's TDP class (AMD 65 W, Intel 65 W parts); a laptop draws less, a GPU box more.
    /// </summary>
    public static readonly double ActiveWattsPrior = 65;

    /// <summary>
    /// 3.3 $/kWh of battery wear: a $100 replacement battery of 60 Wh rated for 500 full cycles
    /// costs 100 / (0.06 kWh x 500) per kWh cycled (typical laptop cells, 300 to 1,000 cycles to 80 %).
    /// </summary>
    public static readonly double BatteryWearDollarsPerKilowattHour = 3.3;

    /// <summary>
    /// 20 $/kWh of scarcity at half charge: at 50 % a 60 Wh laptop holds 30 Wh, about 3 hours of
    /// light use; running a 20 W job for a minute (0.33 Wh) then costs under a cent, while the
    /// same job at 15 % costs eight times as much (see <see cref="BatteryReserveFloorPercent"/>).
    /// Chosen so a heavy request moves off a low battery to a busy desktop (simulator-tuned).
    /// </summary>
    public static readonly double BatteryScarcityDollarsPerKilowattHourAtHalf = 20;

    /// <summary>
    /// 4 h: the reference battery life. Draining faster than to reach the floor in 4 h raises
    /// scarcity in proportion (a battery that reaches its floor in 1 h is 4 x as scarce).
    /// </summary>
    public static readonly double ReferenceHoursToFloor = 4;

    /// <summary>
    /// 0.25: the share of battery scarcity that remains while charging. The charger supplies the
    /// work's power, but the work slows the refill, so a charging laptop is cheaper than a draining one, not free.
    /// </summary>
    public static readonly double ChargingScarcityShare = 0.25;

    /// <summary>
    /// 30 s: how far ahead a draining battery's charge is judged against its reserve floor. A charge
    /// is taken where its measured trend puts it this long after now (and after the reading's own age),
    /// so work is not started on a battery that will cross the floor while the work runs: a background
    /// or ordinary request runs some seconds to a minute (the simulator's built-in scenarios: 5 to 60 s).
    /// It also keeps a gauge's jitter around the floor (0.1 point in the simulator, 1 point on an integer
    /// gauge) from letting work back on between two readings: at a laptop's typical 20 to 120 %/h drain
    /// the floor is judged 0.2 to 1 point early. 0 judges the reading as it is.
    /// </summary>
    public static readonly TimeSpan BatteryReserveLookAhead = TimeSpan.FromSeconds(30);

    /// <summary>
    /// 40 Wh: the full capacity a discharging battery's rate is taken over, for the reserve
    /// look-ahead only, where the capacity is not known (gossip carries the rate, not the capacity)
    /// and the charge's trend not yet (its window fills minutes after an unplug). A small laptop's
    /// battery: 13- and 14-inch laptops carry some 40 to 60 Wh (a 2020 MacBook Air 49.9 Wh, a Dell XPS
    /// 13 52 Wh), larger ones up to the 100 Wh airlines allow; a smaller guess drains faster and judges
    /// the floor earlier, the safe side for a floor.
    /// </summary>
    public static readonly double BatteryFullWattHoursPrior = 40;

    /// <summary>
    /// 5 s: how far ahead a draining battery's charge is judged against its reserve floor while its
    /// trend is not known yet (the first minute or more after an unplug), along the discharge rate
    /// (<see cref="BatteryFullWattHoursPrior"/>); at most <see cref="ScoringOptions.BatteryReserveLookAhead"/>.
    /// Enough to cover the reading's age and the gauge's jitter (a reading half a second to two
    /// seconds old, 0.05 point above the truth, at 15 to 40 W over 40 Wh: 0.05 to 0.14 point in
    /// 5 s); the work's own run is left to the trend's look-ahead, because a momentary rate over a
    /// capacity guessed small drains fast, and 30 s of it shut a just-unplugged laptop out a whole
    /// point above its floor (laptop-unplugged at seeds 1 to 9: 1.03x the oracle's total with 5 s,
    /// 1.09x with 30 s; benchmarks/README.md, "The reserve before the trend").
    /// </summary>
    public static readonly TimeSpan BatteryReserveRateLookAhead = TimeSpan.FromSeconds(5);

    /// <summary>10 %: the battery reserve floor below which non-urgent work is refused (Windows' default low-battery level is 10 %; macOS warns at 10 %).</summary>
    public static readonly double BatteryReserveFloorPercent = 10;

    /// <summary>
    /// 20 %: a node whose energy saver is on is priced as if its battery held at most this much.
    /// Windows turns battery saver on by itself at 20 % by default (Settings, Power &amp; battery,
    /// "Turn battery saver on automatically at"); a user who turns it on earlier is asking the
    /// machine to behave as it would at that level, so the mesh should spare it as much.
    /// </summary>
    public static readonly double EnergySaverBatteryPercent = 20;

    /// <summary>1,000 $/kWh: the cap of battery scarcity near the floor, so urgent work below the floor stays priceable.</summary>
    public static readonly double MaxBatteryDollarsPerKilowattHour = 1_000;

    // ---- Network -------------------------------------------------------------------------

    /// <summary>10 $/GB on a metered link: typical mobile overage and pay-as-you-go prices (US carriers $10/GB; EU roaming caps a few EUR/GB).</summary>
    public static readonly double MeteredDollarsPerGigabyte = 10;

    /// <summary>10 Mbit/s: the pessimistic bandwidth prior for a peer never measured (a weak Wi-Fi or a 4G link), replaced by observed transfers.</summary>
    public static readonly double BandwidthPriorBitsPerSecond = 10e6;

    /// <summary>
    /// 100 ms: the round-trip prior for a peer never measured; between Linkerd's 30 ms LAN prior and tower's
    /// pessimistic 1 s, at the scale of a transatlantic or mobile round trip.
    /// </summary>
    public static readonly double RttPriorSeconds = 0.1;

    // ---- Compute -------------------------------------------------------------------------

    /// <summary>Utilisation cap in the queueing inflation 1/(1-rho): 0.95 bounds the inflation at 20 x (a saturated node is very expensive, not infinite).</summary>
    public static readonly double MaxUtilization = 0.95;

    /// <summary>0.5: the utilisation assumed when a node's load is unknown or stale (half busy: neither preferred nor avoided).</summary>
    public static readonly double UnknownUtilizationPrior = 0.5;

    /// <summary>Throttle ratio cap: 0.9 bounds thermal stretching at 10 x.</summary>
    public static readonly double MaxThrottleRatio = 0.9;

    /// <summary>20 tokens/s decode prior for a model without an advertised or observed rate: a 7 to 8 B model at 4-bit on a recent laptop CPU.</summary>
    public static readonly double DecodeTokensPerSecondPrior = 20;

    /// <summary>200 tokens/s prefill prior: prefill runs about 10 x faster than decode on CPUs (llama.cpp figures).</summary>
    public static readonly double PrefillTokensPerSecondPrior = 200;

    // ---- Staleness (maximum age of each factor group) ----------------------------------

    /// <summary>30 s for power: unplugging is instant; the design review put 30 to 60 s (the seed's 120 s was too long).</summary>
    public static readonly TimeSpan PowerMaxAge = TimeSpan.FromSeconds(30);

    /// <summary>30 s for thermal: heat builds over tens of seconds.</summary>
    public static readonly TimeSpan ThermalMaxAge = TimeSpan.FromSeconds(30);

    /// <summary>15 s for CPU load: a burst changes it within seconds (the inference gateway treats metrics older than 200 ms as saturated; gossip cannot be that fresh, so 15 s with the Unknown prior).</summary>
    public static readonly TimeSpan ComputeMaxAge = TimeSpan.FromSeconds(15);

    /// <summary>15 s for GPU load, like CPU load.</summary>
    public static readonly TimeSpan GpuMaxAge = TimeSpan.FromSeconds(15);

    /// <summary>120 s for the network link: metered state and bandwidth change slowly.</summary>
    public static readonly TimeSpan NetworkMaxAge = TimeSpan.FromSeconds(120);
}
