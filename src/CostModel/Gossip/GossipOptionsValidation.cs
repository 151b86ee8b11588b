using CostModel.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Gossip;

/// <summary>Source-generated validation of <see cref="GossipOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class GossipOptionsValidator : IValidateOptions<GossipOptions>;

/// <summary>Checks what the attributes cannot: time spans in range and against each other, the keys.</summary>
internal sealed class GossipOptionsRangeValidator : IValidateOptions<GossipOptions>
{
    public ValidateOptionsResult Validate(string? name, GossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Keys is null || options.ClusterId is null)
        {
            return ValidateOptionsResult.Fail("CostModel:Gossip:Keys and CostModel:Gossip:ClusterId must not be null.");
        }

        var failures = new List<string>();
        OptionsChecks.Range(failures, "CostModel:Gossip:Interval", options.Interval, GossipDefaults.MinInterval, GossipDefaults.MaxInterval);
        OptionsChecks.Range(failures, "CostModel:Gossip:MaxSilence", options.MaxSilence, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        OptionsChecks.Range(failures, "CostModel:Gossip:MinPublishInterval", options.MinPublishInterval, TimeSpan.Zero, options.MaxSilence);
        OptionsChecks.Range(failures, "CostModel:Gossip:DeadAfter", options.DeadAfter, options.MaxSilence + TimeSpan.FromTicks(1), TimeSpan.FromDays(1));
        OptionsChecks.Range(failures, "CostModel:Gossip:RemoveAfter", options.RemoveAfter, TimeSpan.Zero, TimeSpan.FromDays(7));
        OptionsChecks.Range(failures, "CostModel:Gossip:SyncReplyInterval", options.SyncReplyInterval, TimeSpan.Zero, TimeSpan.FromHours(1));
        OptionsChecks.Range(failures, "CostModel:Gossip:MaxGenerationLead", options.MaxGenerationLead, TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650));
        try
        {
            using GossipKeyring keyring = GossipKeyring.FromBase64(options.Keys, options.Encrypt);
        }
        catch (ArgumentException ex)
        {
            failures.Add($"CostModel:Gossip:Keys: {ex.Message}");
        }

        return OptionsChecks.Result(failures);
    }
}

/// <summary>
/// Registered by <c>AddGossip()</c>: refuses gossip without a key unless
/// <see cref="GossipOptions.AllowUnauthenticated"/> says so, at start (with
/// <c>ValidateOnStart</c>) rather than when the adapter is first built.
/// </summary>
internal sealed class GossipKeyRequiredValidator : IValidateOptions<GossipOptions>
{
    public ValidateOptionsResult Validate(string? name, GossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options is { Keys.Count: 0, AllowUnauthenticated: false }
            ? ValidateOptionsResult.Fail(GossipOptions.NoKeyMessage)
            : ValidateOptionsResult.Success;
    }
}
