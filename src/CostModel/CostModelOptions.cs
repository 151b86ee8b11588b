using System.ComponentModel.DataAnnotations;
using CostModel.Collection;
using CostModel.Factors;
using CostModel.Scoring;
using CostModel.Pricing;
using CostModel.Budgets;
using CostModel.Routing;
using Microsoft.Extensions.Options;

namespace CostModel;

/// <summary>
/// Root options of the library, bound from the <c>CostModel</c> configuration section and
/// validated at start; live changes arrive through <see cref="IOptionsMonitor{TOptions}"/>.
/// </summary>
public sealed class CostModelOptions
{
    /// <summary>The configuration section name used by convention.</summary>
    public const string SectionName = "CostModel";

    /// <summary>This node's identifier in the mesh. Default: the machine name.</summary>
    [StringLength(NodeCostFactors.MaxNodeIdLength, MinimumLength = 1)]
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>How this node measures itself.</summary>
    [ValidateObjectMembers]
    public CollectionOptions Collection { get; set; } = new();

    /// <summary>Prices and priors of the cost model.</summary>
    [ValidateObjectMembers]
    public ScoringOptions Scoring { get; set; } = new();

    /// <summary>Where API prices come from.</summary>
    [ValidateObjectMembers]
    public PricingOptions Pricing { get; set; } = new();

    /// <summary>How requests are routed.</summary>
    [ValidateObjectMembers]
    public RoutingOptions Routing { get; set; } = new();

    /// <summary>Spend caps per time window.</summary>
    [ValidateObjectMembers]
    public BudgetOptions Budgets { get; set; } = new();

    /// <summary>Gossip: cluster, keys, MTU, publishing and liveness.</summary>
    [ValidateObjectMembers]
    public Gossip.GossipOptions Gossip { get; set; } = new();
}

/// <summary>Source-generated validation of <see cref="CostModelOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class CostModelOptionsValidator : IValidateOptions<CostModelOptions>;

/// <summary>Checks what DataAnnotations cannot express without reflection: time spans in range, override keys.</summary>
internal sealed class CostModelOptionsRangeValidator : IValidateOptions<CostModelOptions>
{
    public ValidateOptionsResult Validate(string? name, CostModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        CollectionOptions c = options.Collection;
        if (c is null)
        {
            return ValidateOptionsResult.Fail("CostModel:Collection must not be null.");
        }

        Check(failures, "CostModel:Collection:SampleInterval", c.SampleInterval, CollectionDefaults.MinSampleInterval, CollectionDefaults.MaxSampleInterval);
        Check(failures, "CostModel:Collection:BatteryTrendWindow", c.BatteryTrendWindow, CollectionDefaults.MinBatteryTrendWindow, CollectionDefaults.MaxBatteryTrendWindow);
        Check(failures, "CostModel:Collection:LoadTrendWindow", c.LoadTrendWindow, CollectionDefaults.MinLoadTrendWindow, CollectionDefaults.MaxLoadTrendWindow);
        if (c.MeteredInterfaces is null)
        {
            failures.Add("CostModel:Collection:MeteredInterfaces must not be null.");
        }
        else
        {
            foreach (string key in c.MeteredInterfaces.Keys)
            {
                if (string.IsNullOrWhiteSpace(key) || key.Length > NetworkFactors.MaxInterfaceNameLength)
                {
                    failures.Add($"CostModel:Collection:MeteredInterfaces has an invalid interface name '{key}'.");
                }
            }
        }

        if (options.Scoring is null)
        {
            failures.Add("CostModel:Scoring must not be null.");
        }
        else
        {
            ScoringOptionsRangeValidator.Validate(options.Scoring, failures);
        }

        if (options.Pricing is null || options.Pricing.Files is null)
        {
            failures.Add("CostModel:Pricing and its Files must not be null.");
        }
        else
        {
            Check(failures, "CostModel:Pricing:MaxTableAge", options.Pricing.MaxTableAge, TimeSpan.FromDays(1), TimeSpan.FromDays(3650));
            Check(failures, "CostModel:Pricing:RefreshInterval", options.Pricing.RefreshInterval, TimeSpan.FromMinutes(1), TimeSpan.FromDays(365));
            foreach (string file in options.Pricing.Files)
            {
                if (string.IsNullOrWhiteSpace(file))
                {
                    failures.Add("CostModel:Pricing:Files has an empty path.");
                }
            }
        }

        if (options.Budgets is null || options.Budgets.SpendCaps is null)
        {
            failures.Add("CostModel:Budgets and its SpendCaps must not be null.");
        }
        else
        {
            foreach (SpendCap cap in options.Budgets.SpendCaps)
            {
                if (cap is null)
                {
                    failures.Add("CostModel:Budgets:SpendCaps has an empty entry.");
                    continue;
                }

                Check(failures, "CostModel:Budgets:SpendCaps:Window", cap.Window, TimeSpan.FromMinutes(1), TimeSpan.FromDays(366));
            }
        }

        if (options.Routing is null || options.Routing.Filters is null || options.Routing.ApiEndpoints is null)
        {
            failures.Add("CostModel:Routing, its Filters and its ApiEndpoints must not be null.");
        }
        else
        {
            RoutingOptions r = options.Routing;
            Check(failures, "CostModel:Routing:AffinityTtl", r.AffinityTtl, TimeSpan.FromSeconds(1), TimeSpan.FromDays(30));
            Check(failures, "CostModel:Routing:LeaseTimeout", r.LeaseTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
            Check(failures, "CostModel:Routing:OutcomeDecay", r.OutcomeDecay, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
            Check(failures, "CostModel:Routing:FailureMemory", r.FailureMemory, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
            Check(failures, "CostModel:Routing:EjectionBaseTime", r.EjectionBaseTime, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
            Check(failures, "CostModel:Routing:MaxSnapshotAge", r.MaxSnapshotAge, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (ApiEndpoint endpoint in r.ApiEndpoints)
            {
                if (endpoint is not null && !ids.Add(endpoint.Id))
                {
                    failures.Add($"CostModel:Routing:ApiEndpoints has the id '{endpoint.Id}' twice.");
                }
            }
        }

        if (string.IsNullOrWhiteSpace(options.NodeId) || options.NodeId.Any(char.IsControl))
        {
            failures.Add("CostModel:NodeId must be 1 to 64 characters without control characters.");
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(options.NodeId) > Gossip.Wire.WireFormat.MaxNodeIdBytes)
        {
            failures.Add($"CostModel:NodeId must be at most {Gossip.Wire.WireFormat.MaxNodeIdBytes} UTF-8 bytes (it travels in gossip).");
        }

        ValidateGossip(options.Gossip, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateGossip(Gossip.GossipOptions? g, List<string> failures)
    {
        if (g is null || g.Keys is null || g.ClusterId is null)
        {
            failures.Add("CostModel:Gossip, its Keys and its ClusterId must not be null.");
            return;
        }

        Check(failures, "CostModel:Gossip:Interval", g.Interval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));
        Check(failures, "CostModel:Gossip:MaxSilence", g.MaxSilence, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        Check(failures, "CostModel:Gossip:MinPublishInterval", g.MinPublishInterval, TimeSpan.Zero, g.MaxSilence);
        Check(failures, "CostModel:Gossip:DeadAfter", g.DeadAfter, g.MaxSilence + TimeSpan.FromTicks(1), TimeSpan.FromDays(1));
        Check(failures, "CostModel:Gossip:RemoveAfter", g.RemoveAfter, TimeSpan.Zero, TimeSpan.FromDays(7));
        Check(failures, "CostModel:Gossip:SyncReplyInterval", g.SyncReplyInterval, TimeSpan.Zero, TimeSpan.FromHours(1));
        Check(failures, "CostModel:Gossip:MaxGenerationLead", g.MaxGenerationLead, TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650));
        try
        {
            using Gossip.GossipKeyring keyring = Gossip.GossipKeyring.FromBase64(g.Keys, g.Encrypt);
        }
        catch (ArgumentException ex)
        {
            failures.Add($"CostModel:Gossip:Keys: {ex.Message}");
        }
    }

    private static void Check(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} is {value}; it must be between {min} and {max}.");
        }
    }
}

/// <summary>
/// Registered by <c>AddGossip()</c>: refuses gossip without a key unless
/// <see cref="Gossip.GossipOptions.AllowUnauthenticated"/> says so, at start (with
/// <c>ValidateOnStart</c>) rather than when the adapter is first built.
/// </summary>
internal sealed class GossipKeyRequiredValidator : IValidateOptions<CostModelOptions>
{
    public ValidateOptionsResult Validate(string? name, CostModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Gossip is { Keys.Count: 0, AllowUnauthenticated: false }
            ? ValidateOptionsResult.Fail(Gossip.GossipOptions.NoKeyMessage)
            : ValidateOptionsResult.Success;
    }
}

/// <summary>Rejects filter names no registered <see cref="IRouteFilter"/> carries, at start rather than at the first request.</summary>
/// <remarks>
/// Filters are resolved when validation runs, not when the validator is built: filters may depend
/// on the options themselves, and constructor injection would make a dependency cycle.
/// </remarks>
internal sealed class RouteFilterNameValidator(IServiceProvider services) : IValidateOptions<CostModelOptions>
{
    public ValidateOptionsResult Validate(string? name, CostModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Routing?.Filters is not { } configured)
        {
            return ValidateOptionsResult.Skip;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (IRouteFilter filter in (IEnumerable<IRouteFilter>?)services.GetService(typeof(IEnumerable<IRouteFilter>)) ?? [])
        {
            names.Add(filter.Name);
        }

        string[] unknown = [.. configured.Where(f => !names.Contains(f))];
        return unknown.Length == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"CostModel:Routing:Filters names unknown filters: {string.Join(", ", unknown)}; registered: {string.Join(", ", names.Order(StringComparer.Ordinal))}.");
    }
}
