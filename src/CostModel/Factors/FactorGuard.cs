using System.Globalization;

namespace CostModel.Factors;

/// <summary>Range checks used by the factor records' <c>init</c> accessors.</summary>
internal static class FactorGuard
{
    public static Reading<double> Range(Reading<double> reading, double min, double max, string name)
    {
        if (reading.HasValue && (reading.RawValue < min || reading.RawValue > max))
        {
            throw new ArgumentOutOfRangeException(name, reading.RawValue,
                string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max}."));
        }

        return reading;
    }

    public static Reading<double> NonNegative(Reading<double> reading, string name) =>
        Range(reading, 0, double.MaxValue, name);

    public static Reading<long> NonNegative(Reading<long> reading, string name)
    {
        if (reading.HasValue && reading.RawValue < 0)
        {
            throw new ArgumentOutOfRangeException(name, reading.RawValue, $"{name} must not be negative.");
        }

        return reading;
    }

    public static Reading<int> NonNegative(Reading<int> reading, string name)
    {
        if (reading.HasValue && reading.RawValue < 0)
        {
            throw new ArgumentOutOfRangeException(name, reading.RawValue, $"{name} must not be negative.");
        }

        return reading;
    }

    public static long NonNegative(long value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");

    public static int NonNegative(int value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");

    public static double Range(double value, double min, double max, string name) =>
        double.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new ArgumentOutOfRangeException(name, value,
                string.Create(CultureInfo.InvariantCulture, $"{name} must be a finite number between {min} and {max}."));

    public static string Text(string? value, int maxLength, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, name);
        if (value.Length > maxLength)
        {
            throw new ArgumentOutOfRangeException(name, value.Length, $"{name} must be at most {maxLength} characters.");
        }

        foreach (char c in value)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"{name} must not contain control characters.", name);
            }
        }

        return value;
    }
}
