namespace CostModel.Factors;

/// <summary>
/// A limit that may be absent: a container's CPU quota in cores or memory limit in bytes.
/// "No limit" is a measured fact, distinct from an unknown limit (which is a <see cref="Reading{T}"/> without a value).
/// </summary>
public readonly record struct ResourceLimit
{
    private ResourceLimit(bool isUnlimited, double amount)
    {
        IsUnlimited = isUnlimited;
        Amount = amount;
    }

    /// <summary>No limit is configured.</summary>
    public static ResourceLimit Unlimited { get; } = new(true, 0);

    /// <summary>True when no limit is configured.</summary>
    public bool IsUnlimited { get; }

    /// <summary>The limit in the unit of the property that holds it; 0 when <see cref="IsUnlimited"/>.</summary>
    public double Amount { get; }

    /// <summary>A finite, positive limit.</summary>
    /// <param name="amount">The limit (cores, bytes), greater than 0 and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is not finite or not positive.</exception>
    public static ResourceLimit Of(double amount)
    {
        if (!double.IsFinite(amount) || amount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "A limit must be a positive finite number; use ResourceLimit.Unlimited for none.");
        }

        return new ResourceLimit(false, amount);
    }

    /// <summary>The smaller of two limits (an unlimited one loses to any finite one).</summary>
    /// <param name="other">The other limit.</param>
    public ResourceLimit Min(ResourceLimit other) =>
        IsUnlimited ? other : other.IsUnlimited ? this : (Amount <= other.Amount ? this : other);

    /// <summary>"unlimited" or the amount.</summary>
    public override string ToString() => IsUnlimited ? "unlimited" : Amount.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
}
