namespace CostModel.Scoring;

/// <summary>What a request needs and how much its sender cares about time and money.</summary>
public sealed record RequestProfile
{
    /// <summary>Creates a profile for a model or capability.</summary>
    /// <param name="model">The model id or capability the request needs.</param>
    public RequestProfile(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        Model = model;
    }

    /// <summary>The model id or capability the request needs.</summary>
    public string Model { get; }

    /// <summary>Estimated prompt tokens.</summary>
    public int InputTokens { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(InputTokens), value, "Must not be negative."); }

    /// <summary>Estimated generated tokens.</summary>
    public int OutputTokens { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(OutputTokens), value, "Must not be negative."); }

    /// <summary>Bytes to move to the target and back (prompt, attachments, response).</summary>
    public long PayloadBytes { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(PayloadBytes), value, "Must not be negative."); }

    /// <summary>How urgent the request is; non-urgent work may be refused by nodes below their battery reserve.</summary>
    public Urgency Urgency { get; init; } = Urgency.Normal;

    /// <summary>A conversation or session key: requests with the same key prefer the node that served the last one (its KV cache is there).</summary>
    public string? AffinityKey { get; init; }

    /// <summary>
    /// Of <see cref="InputTokens"/>, the leading tokens (the conversation's earlier turns) that the
    /// node which served this <see cref="AffinityKey"/> last holds in its KV cache (llama.cpp's prompt
    /// cache, vLLM's prefix caching): that node prefills only the rest, every other target prefills
    /// them again, so moving the conversation costs their prefill. Default 0 (nothing cached). Must
    /// not exceed <see cref="InputTokens"/> (checked when the request is routed). API endpoints are
    /// priced for the whole prompt: prompt-caching discounts of paid APIs are not modelled.
    /// </summary>
    public int CachedPromptTokens { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(CachedPromptTokens), value, "Must not be negative."); }

    /// <summary>Smallest acceptable model size, in billions of parameters (a hard floor).</summary>
    public double? MinParameterBillions { get; init; }

    /// <summary>Smallest acceptable bits per weight (a hard floor against heavily quantised re-hosts).</summary>
    public double? MinQuantizationBits { get; init; }

    /// <summary>Dollars this request would pay for each billion parameters of model size (a priced preference for larger models; 0 for none).</summary>
    public double DollarsPerBillionParameters { get; init => field = double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(DollarsPerBillionParameters), value, "Must be a finite, non-negative price."); }

    /// <summary>Dollars this request would pay for each bit per weight (a priced preference for less quantised models; 0 for none).</summary>
    public double DollarsPerQuantizationBit { get; init => field = double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(DollarsPerQuantizationBit), value, "Must be a finite, non-negative price."); }

    /// <summary>Dollars one second of latency is worth to this request; overrides the mesh and system defaults.</summary>
    public double? ValueOfTimeDollarsPerSecond { get; init => field = value is null || (double.IsFinite(value.Value) && value >= 0) ? value : throw new ArgumentOutOfRangeException(nameof(ValueOfTimeDollarsPerSecond), value, "Must be a finite, non-negative price."); }

    /// <summary>The most this request may cost, in dollars; overrides the mesh and system defaults.</summary>
    public double? MaxDollarsPerRequest { get; init => field = value is null || (double.IsFinite(value.Value) && value >= 0) ? value : throw new ArgumentOutOfRangeException(nameof(MaxDollarsPerRequest), value, "Must be a finite, non-negative amount."); }

    /// <summary>True to refuse targets whose link is metered.</summary>
    public bool ExcludeMetered { get; init; }
}

/// <summary>How urgent a request is.</summary>
public enum Urgency
{
    /// <summary>Can wait; should not drain a battery below its reserve.</summary>
    Background = 0,

    /// <summary>An ordinary request.</summary>
    Normal = 1,

    /// <summary>A person is waiting; may use a battery below its reserve when nothing else serves.</summary>
    Interactive = 2,
}
