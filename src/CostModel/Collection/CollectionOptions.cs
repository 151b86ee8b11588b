using System.ComponentModel.DataAnnotations;

namespace CostModel.Collection;

/// <summary>How this node measures itself. Bound from the <c>CostModel:Collection</c> configuration section.</summary>
public sealed class CollectionOptions
{
    /// <summary>The section below <c>CostModel</c> these options are bound from.</summary>
    public const string SectionName = "Collection";

    /// <summary>Time between snapshots of the stream, 10 ms to 1 h. Default 1 s (<see cref="CollectionDefaults.SampleInterval"/>).</summary>
    public TimeSpan SampleInterval { get; set; } = CollectionDefaults.SampleInterval;

    /// <summary>
    /// How often a pass is redone when the power source changed during it (so a snapshot never
    /// mixes load measured on mains with "on battery"). Default 2 (<see cref="CollectionDefaults.MaxPassRetries"/>).
    /// </summary>
    [Range(0, 10)]
    public int MaxPassRetries { get; set; } = CollectionDefaults.MaxPassRetries;

    /// <summary>Window of the battery trend fit, 10 s to 6 h. Default 5 min (<see cref="CollectionDefaults.BatteryTrendWindow"/>).</summary>
    public TimeSpan BatteryTrendWindow { get; set; } = CollectionDefaults.BatteryTrendWindow;

    /// <summary>Window of the load trend fit, 2 s to 1 h. Default 60 s (<see cref="CollectionDefaults.LoadTrendWindow"/>).</summary>
    public TimeSpan LoadTrendWindow { get; set; } = CollectionDefaults.LoadTrendWindow;

    /// <summary>
    /// Operator override of this node's metered state: true or false wins over every measurement;
    /// null (the default) leaves it to the platform probe.
    /// </summary>
    public bool? Metered { get; set; }

    /// <summary>
    /// Operator override of the metered state per interface name (<c>"wwan0": true</c>); applies
    /// when that interface carries the default route. Wins over measurement, loses to <see cref="Metered"/>.
    /// </summary>
    public Dictionary<string, bool> MeteredInterfaces { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Defaults of <see cref="CollectionOptions"/>, each with its reason.</summary>
public static class CollectionDefaults
{
    internal static readonly TimeSpan MinSampleInterval = TimeSpan.FromMilliseconds(10);
    internal static readonly TimeSpan MaxSampleInterval = TimeSpan.FromHours(1);
    internal static readonly TimeSpan MinBatteryTrendWindow = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan MaxBatteryTrendWindow = TimeSpan.FromHours(6);
    internal static readonly TimeSpan MinLoadTrendWindow = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan MaxLoadTrendWindow = TimeSpan.FromHours(1);

    /// <summary>
    /// 1 s: power and load change on the scale of seconds; node_exporter is scraped every 15 s and
    /// the Gateway API inference extension refreshes every 50 ms, and a full Linux pass costs under 50 us,
    /// so 1 s keeps the stream fresh at negligible cost.
    /// </summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    /// <summary>2 redone passes: an unplug mid-pass is rare; two more passes cover a flapping connector without looping.</summary>
    public static readonly int MaxPassRetries = 2;

    /// <summary>
    /// 5 min: Linux reports battery charge in steps of about 1 % (capacity) or finer (energy_now);
    /// a draining laptop loses 1 % every 1 to 5 minutes, so a slope needs a few minutes of samples.
    /// </summary>
    public static readonly TimeSpan BatteryTrendWindow = TimeSpan.FromMinutes(5);

    /// <summary>60 s: the same horizon as the one-minute load average.</summary>
    public static readonly TimeSpan LoadTrendWindow = TimeSpan.FromSeconds(60);
}
