namespace CostModel.Routing;

/// <summary>
/// Work placed on a target, counted as pending until completed, disposed or expired, so pending
/// counts can neither stick nor go negative. A struct handle: no allocation per request. Only the
/// first of <see cref="Complete"/> and <see cref="Dispose"/> counts; later calls are ignored.
/// </summary>
public readonly struct RouteLease : IDisposable, IEquatable<RouteLease>
{
    private readonly LeaseTable? _table;
    private readonly int _slot;
    private readonly int _generation;

    internal RouteLease(LeaseTable table, int slot, int generation)
    {
        _table = table;
        _slot = slot;
        _generation = generation;
    }

    /// <summary>False for the empty lease of a decision without a target (or beyond the lease bound).</summary>
    public bool IsTracked => _table is not null;

    /// <summary>Reports the outcome and releases the pending work.</summary>
    /// <param name="outcome">What happened.</param>
    /// <returns>True when this call released the lease; false when it was already released or expired.</returns>
    public bool Complete(RouteOutcome outcome) => _table?.Complete(_slot, _generation, outcome) ?? false;

    /// <summary>Releases the pending work without an outcome (the request was cancelled).</summary>
    public void Dispose() => _table?.Release(_slot, _generation);

    /// <inheritdoc />
    public bool Equals(RouteLease other) => ReferenceEquals(_table, other._table) && _slot == other._slot && _generation == other._generation;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RouteLease other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_slot, _generation);

    /// <summary>Equality of the lease handles.</summary>
    public static bool operator ==(RouteLease left, RouteLease right) => left.Equals(right);

    /// <summary>Inequality of the lease handles.</summary>
    public static bool operator !=(RouteLease left, RouteLease right) => !left.Equals(right);
}
