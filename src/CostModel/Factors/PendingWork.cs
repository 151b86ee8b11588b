namespace CostModel.Factors;

/// <summary>Work the node itself reports as queued or running (from the host application).</summary>
public sealed record PendingWork
{
    /// <summary>Requests waiting for a slot.</summary>
    public Reading<int> QueueDepth { get; init => field = FactorGuard.NonNegative(value, nameof(QueueDepth)); }

    /// <summary>Requests being served now.</summary>
    public Reading<int> InFlight { get; init => field = FactorGuard.NonNegative(value, nameof(InFlight)); }
}
