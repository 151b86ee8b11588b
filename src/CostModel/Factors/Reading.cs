using System.Runtime.CompilerServices;

namespace CostModel.Factors;

/// <summary>
/// One observed value with its quality, observation time and provenance. A reading without a
/// value (<see cref="SignalQuality.Unknown"/> or <see cref="SignalQuality.NotSupported"/>)
/// carries the reason instead, and never reads as 0: <see cref="Value"/> throws, and callers
/// choose their own conservative fallback with <see cref="GetValueOrDefault(T)"/>.
/// </summary>
/// <typeparam name="T">The value type: a number, a flag, an enum or a <see cref="ResourceLimit"/>.</typeparam>
/// <remarks>
/// Create readings through <see cref="Reading"/> (<c>Reading.Measured(42.0, now, "/proc/stat")</c>).
/// <c>default(Reading&lt;T&gt;)</c> is Unknown with the reason "not collected". A source or reason
/// with an unpaired surrogate (text quoted from the OS) is kept with U+FFFD in its place, as JSON
/// writes it, so a reading equals its JSON round trip.
/// The struct is 32 bytes or less for 8-byte values so that a whole snapshot stays small.
/// </remarks>
public readonly struct Reading<T> : IEquatable<Reading<T>>
    where T : struct
{
    private const string NotCollected = "not collected";

    private readonly T _value;
    private readonly long _observedUtcTicks;

    // Source when the reading holds a value; the reason when it does not.
    private readonly string? _note;

    internal Reading(T value, SignalQuality quality, long observedUtcTicks, string? note)
    {
        _value = value;
        Quality = quality;
        _observedUtcTicks = observedUtcTicks;

        // A note may quote the OS (a file's text, a driver's name): kept well-formed, as JSON carries it.
        _note = FactorGuard.WellFormed(note);
    }

    /// <summary>How the value was obtained, or why there is none.</summary>
    public SignalQuality Quality { get; }

    /// <summary>True for <see cref="SignalQuality.Measured"/>, <see cref="SignalQuality.Estimated"/> and <see cref="SignalQuality.Overridden"/>.</summary>
    public bool HasValue => Quality >= SignalQuality.Measured;

    /// <summary>The value.</summary>
    /// <exception cref="InvalidOperationException">The reading is Unknown or NotSupported; the message carries the reason.</exception>
    public T Value => HasValue
        ? _value
        : throw new InvalidOperationException($"The reading has no value: {Quality} ({Reason}).");

    /// <summary>When the value was observed (UTC), or null when never observed.</summary>
    public DateTimeOffset? ObservedAt => _observedUtcTicks == 0 ? null : new DateTimeOffset(_observedUtcTicks, TimeSpan.Zero);

    /// <summary>Where the value came from (a file, an API, "operator"), or null when there is no value.</summary>
    public string? Source => HasValue ? _note : null;

    /// <summary>Why there is no value, or null when there is one.</summary>
    public string? Reason => HasValue ? null : _note ?? NotCollected;

    // The source or the reason, as Source and Reason read them (equality and hashing compare this).
    private string? Note => HasValue ? _note : _note ?? NotCollected;

    /// <summary>Gets the value when there is one.</summary>
    /// <param name="value">The value, or <c>default</c> when there is none.</param>
    /// <returns>True when the reading has a value.</returns>
    public bool TryGetValue(out T value)
    {
        value = _value;
        return HasValue;
    }

    /// <summary>The value, or the caller's explicit fallback when there is none.</summary>
    /// <param name="fallback">What to use when the reading is Unknown or NotSupported (choose it conservatively).</param>
    public T GetValueOrDefault(T fallback) => HasValue ? _value : fallback;

    /// <summary>How old the reading is at <paramref name="now"/>, or null when it was never observed.</summary>
    /// <param name="now">The current time from the injected <see cref="TimeProvider"/>.</param>
    public TimeSpan? AgeAt(DateTimeOffset now) =>
        _observedUtcTicks == 0 ? null : now.UtcTicks - _observedUtcTicks is var d && d > 0 ? TimeSpan.FromTicks(d) : TimeSpan.Zero;

    /// <summary>
    /// This reading when it is at most <paramref name="maxAge"/> old at <paramref name="now"/>;
    /// otherwise an Unknown reading that says how stale it was. Readings without a value are returned as they are.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="maxAge">The factor's maximum age.</param>
    public Reading<T> FreshOrUnknown(DateTimeOffset now, TimeSpan maxAge)
    {
        if (!HasValue || AgeAt(now) is not { } age || age <= maxAge)
        {
            return this;
        }

        return new Reading<T>(default, SignalQuality.Unknown, _observedUtcTicks,
            $"stale: observed {age.TotalSeconds:0.#} s ago, maximum age {maxAge.TotalSeconds:0.#} s");
    }

    /// <summary>The same reading with a value mapped through <paramref name="map"/>; readings without a value keep their reason.</summary>
    /// <typeparam name="TResult">The new value type.</typeparam>
    /// <param name="map">The conversion, applied only when there is a value.</param>
    public Reading<TResult> Select<TResult>(Func<T, TResult> map)
        where TResult : struct
    {
        ArgumentNullException.ThrowIfNull(map);
        return HasValue
            ? Reading.Create(map(_value), Quality, _observedUtcTicks, _note)
            : new Reading<TResult>(default, Quality, _observedUtcTicks, _note);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Compares what a reader sees: quality, time, the source or the reason, and the value when there
    /// is one. So <c>default</c> (whose reason reads "not collected") equals a reading made Unknown
    /// with that reason, and equals itself after a round trip through JSON, which writes the reason.
    /// </remarks>
    public bool Equals(Reading<T> other) =>
        Quality == other.Quality
        && _observedUtcTicks == other._observedUtcTicks
        && string.Equals(Note, other.Note, StringComparison.Ordinal)
        && (!HasValue || EqualityComparer<T>.Default.Equals(_value, other._value));

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Reading<T> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(Quality, _observedUtcTicks, Note, HasValue ? _value : default);

    /// <summary>Equality of quality, time, provenance and value.</summary>
    public static bool operator ==(Reading<T> left, Reading<T> right) => left.Equals(right);

    /// <summary>Inequality of quality, time, provenance or value.</summary>
    public static bool operator !=(Reading<T> left, Reading<T> right) => !left.Equals(right);

    /// <summary>A short text: the value and quality, or the quality and reason.</summary>
    public override string ToString() => HasValue ? $"{_value} ({Quality}, {_note})" : $"{Quality}: {Reason}";

    /// <summary>True when the reading has a value observed at most <paramref name="maxAge"/> before <paramref name="now"/>. Allocation-free.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="maxAge">The factor's maximum age.</param>
    public bool IsFreshAt(DateTimeOffset now, TimeSpan maxAge) =>
        HasValue && (_observedUtcTicks == 0 || now.UtcTicks - _observedUtcTicks <= maxAge.Ticks);

    internal long ObservedUtcTicks => _observedUtcTicks;

    internal T RawValue => _value;
}

/// <summary>Factories for <see cref="Reading{T}"/>; they reject NaN and infinity.</summary>
public static class Reading
{
    /// <summary>A value read from the operating system or hardware.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value; NaN and infinity are rejected.</param>
    /// <param name="observedAt">When it was observed.</param>
    /// <param name="source">Where it came from, for explanations (a path, an API name).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite.</exception>
    public static Reading<T> Measured<T>(T value, DateTimeOffset observedAt, string source)
        where T : struct => Create(value, SignalQuality.Measured, observedAt.UtcTicks, source);

    /// <summary>A value derived from measurements (a trend, a rate, a prior).</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value; NaN and infinity are rejected.</param>
    /// <param name="observedAt">When the newest input was observed.</param>
    /// <param name="source">How it was derived.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite.</exception>
    public static Reading<T> Estimated<T>(T value, DateTimeOffset observedAt, string source)
        where T : struct => Create(value, SignalQuality.Estimated, observedAt.UtcTicks, source);

    /// <summary>A value set by the operator in configuration.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value; NaN and infinity are rejected.</param>
    /// <param name="observedAt">When the override was applied.</param>
    /// <param name="source">Which setting supplied it.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite.</exception>
    public static Reading<T> Overridden<T>(T value, DateTimeOffset observedAt, string source)
        where T : struct => Create(value, SignalQuality.Overridden, observedAt.UtcTicks, source);

    /// <summary>No value: the source failed or is too old.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="reason">Why, in words an operator understands.</param>
    /// <param name="observedAt">When the attempt was made, if known.</param>
    public static Reading<T> Unknown<T>(string reason, DateTimeOffset? observedAt = null)
        where T : struct
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new Reading<T>(default, SignalQuality.Unknown, observedAt?.UtcTicks ?? 0, reason);
    }

    /// <summary>No value: this platform or machine cannot measure it.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="reason">Why, in words an operator understands.</param>
    /// <param name="observedAt">When the attempt was made, if known.</param>
    public static Reading<T> NotSupported<T>(string reason, DateTimeOffset? observedAt = null)
        where T : struct
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new Reading<T>(default, SignalQuality.NotSupported, observedAt?.UtcTicks ?? 0, reason);
    }

    internal static Reading<T> Create<T>(T value, SignalQuality quality, long observedUtcTicks, string? note)
        where T : struct
    {
        if (quality >= SignalQuality.Measured)
        {
            EnsureFinite(value);
        }

        return new Reading<T>(value, quality, observedUtcTicks, note);
    }

    private static void EnsureFinite<T>(T value)
        where T : struct
    {
        // Type tests on T are folded by the JIT: no boxing on the hot path.
        if (typeof(T) == typeof(double))
        {
            double d = Unsafe.As<T, double>(ref value);
            if (!double.IsFinite(d))
            {
                throw new ArgumentOutOfRangeException(nameof(value), d, "A reading must be a finite number; use Reading.Unknown for a missing value.");
            }
        }
        else if (typeof(T) == typeof(float))
        {
            float f = Unsafe.As<T, float>(ref value);
            if (!float.IsFinite(f))
            {
                throw new ArgumentOutOfRangeException(nameof(value), f, "A reading must be a finite number; use Reading.Unknown for a missing value.");
            }
        }
    }
}
