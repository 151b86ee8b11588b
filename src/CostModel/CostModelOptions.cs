using System.ComponentModel.DataAnnotations;
using CostModel.Factors;
using Microsoft.Extensions.Options;

namespace CostModel;

/// <summary>
/// The node's identity, bound from the <c>CostModel</c> configuration section. Each component has
/// its own options, bound from a section below it (<c>CostModel:Collection</c>,
/// <c>CostModel:Scoring</c>, <c>CostModel:Pricing</c>, <c>CostModel:Routing</c>,
/// <c>CostModel:Budgets</c>, <c>CostModel:Gossip</c>), validated at start, and followed live through
/// <see cref="IOptionsMonitor{TOptions}"/> except the settings documented as fixed at start
/// (docs/configuration.md lists every key).
/// </summary>
public sealed class CostModelOptions
{
    /// <summary>The configuration section name used by convention.</summary>
    public const string SectionName = "CostModel";

    /// <summary>
    /// This node's identifier in the mesh: 1 to 64 characters (at most 64 UTF-8 bytes: it travels
    /// in gossip), no control characters, well-formed Unicode (no lone surrogate, which gossip would
    /// carry as U+FFFD). Default: the machine name. Fixed at start: a reload that
    /// changes it is refused (logged, the old id kept), so the collector, the gossip adapter and the
    /// router never disagree about who this node is.
    /// </summary>
    [StringLength(NodeCostFactors.MaxNodeIdLength, MinimumLength = 1)]
    public string NodeId { get; set; } = Environment.MachineName;
}

/// <summary>Source-generated validation of <see cref="CostModelOptions"/> (DataAnnotations, AOT-safe).</summary>
[OptionsValidator]
internal sealed partial class CostModelOptionsValidator : IValidateOptions<CostModelOptions>;

/// <summary>Checks what the attributes cannot: no control characters, well-formed Unicode, at most 64 UTF-8 bytes.</summary>
internal sealed class NodeIdValidator : IValidateOptions<CostModelOptions>
{
    public ValidateOptionsResult Validate(string? name, CostModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.NodeId) || options.NodeId.Any(char.IsControl))
        {
            return ValidateOptionsResult.Fail("CostModel:NodeId must be 1 to 64 characters without control characters.");
        }

        // A lone surrogate would travel in gossip as U+FFFD: peers would know this node by another id.
        int lone = Factors.FactorGuard.LoneSurrogateAt(options.NodeId);
        if (lone >= 0)
        {
            return ValidateOptionsResult.Fail(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"CostModel:NodeId must be well-formed Unicode: a lone surrogate at index {lone} would travel in gossip as U+FFFD, so peers would know this node by another id."));
        }

        return System.Text.Encoding.UTF8.GetByteCount(options.NodeId) > Gossip.Wire.WireFormat.MaxNodeIdBytes
            ? ValidateOptionsResult.Fail($"CostModel:NodeId must be at most {Gossip.Wire.WireFormat.MaxNodeIdBytes} UTF-8 bytes (it travels in gossip).")
            : ValidateOptionsResult.Success;
    }
}
