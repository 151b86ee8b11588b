namespace CostModel.Platforms.Windows.Gpu;

/// <summary>
/// Parses the instance names of the GPU performance counter sets (written by the WDDM graphics
/// kernel's counter provider): <c>pid_1234_luid_0x00000000_0x0000C1F2_phys_0_eng_3_engtype_3D</c>
/// for <c>GPU Engine</c>, <c>luid_0x00000000_0x0000C1F2_phys_0</c> for <c>GPU Adapter Memory</c>.
/// The LUID is printed high part first, each part as eight hex digits. Anything else (a
/// truncated or hostile name, a number that overflows) is rejected, never guessed at.
/// </summary>
internal static class GpuInstanceName
{
    /// <summary>Longer names are rejected: a real engine name is under 100 characters (a long engine type such as "VideoProcessing" included).</summary>
    internal const int MaxLength = 256;

    private const string PidPrefix = "pid_";
    private const string LuidPrefix = "luid_0x";
    private const string LuidSeparator = "_0x";
    private const string PhysPrefix = "_phys_";
    private const string EnginePrefix = "_eng_";
    private const string EngineTypePrefix = "_engtype_";

    /// <summary>An adapter's LUID as one 64-bit key: high part in the upper 32 bits, low part in the lower.</summary>
    public static long Luid(uint high, uint low) => (long)(((ulong)high << 32) | low);

    /// <summary>Parses a <c>GPU Engine</c> instance name.</summary>
    /// <param name="name">The instance name.</param>
    /// <param name="luid">The adapter (<see cref="Luid(uint, uint)"/>).</param>
    /// <param name="physical">The physical adapter within a linked adapter (0 unless SLI/CrossFire-linked).</param>
    /// <param name="engine">The engine's ordinal on that physical adapter.</param>
    /// <param name="engineType">The engine type ("3D", "Copy", "VideoDecode", "Compute_0"); may be empty.</param>
    public static bool TryParseEngine(ReadOnlySpan<char> name, out long luid, out uint physical, out uint engine, out ReadOnlySpan<char> engineType)
    {
        luid = 0;
        physical = engine = 0;
        engineType = default;
        if (name.Length > MaxLength || !name.StartsWith(PidPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> rest = name[PidPrefix.Length..];
        if (!TryTakeDecimal(ref rest, out _) || !rest.StartsWith("_", StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest[1..];
        if (!TryTakeAdapter(ref rest, out luid, out physical)
            || !rest.StartsWith(EnginePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest[EnginePrefix.Length..];
        if (!TryTakeDecimal(ref rest, out engine) || !rest.StartsWith(EngineTypePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        engineType = rest[EngineTypePrefix.Length..];
        foreach (char c in engineType)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a <c>GPU Adapter Memory</c> instance name.</summary>
    public static bool TryParseAdapter(ReadOnlySpan<char> name, out long luid, out uint physical)
    {
        luid = 0;
        physical = 0;
        if (name.Length > MaxLength)
        {
            return false;
        }

        ReadOnlySpan<char> rest = name;
        return TryTakeAdapter(ref rest, out luid, out physical) && rest.IsEmpty;
    }

    /// <summary>"luid_0xHHHHHHHH_0xLLLLLLLL_phys_N".</summary>
    private static bool TryTakeAdapter(ref ReadOnlySpan<char> rest, out long luid, out uint physical)
    {
        luid = 0;
        physical = 0;
        if (!rest.StartsWith(LuidPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest[LuidPrefix.Length..];
        if (!TryTakeHex8(ref rest, out uint high) || !rest.StartsWith(LuidSeparator, StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest[LuidSeparator.Length..];
        if (!TryTakeHex8(ref rest, out uint low) || !rest.StartsWith(PhysPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest[PhysPrefix.Length..];
        if (!TryTakeDecimal(ref rest, out physical))
        {
            return false;
        }

        luid = Luid(high, low);
        return true;
    }

    /// <summary>Exactly eight hex digits (ASCII only).</summary>
    private static bool TryTakeHex8(ref ReadOnlySpan<char> rest, out uint value)
    {
        value = 0;
        if (rest.Length < 8)
        {
            return false;
        }

        for (int i = 0; i < 8; i++)
        {
            int digit = HexDigit(rest[i]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)digit;
        }

        rest = rest[8..];
        return true;
    }

    /// <summary>One to ten ASCII decimal digits that fit a <see cref="uint"/>.</summary>
    private static bool TryTakeDecimal(ref ReadOnlySpan<char> rest, out uint value)
    {
        value = 0;
        ulong accumulated = 0;
        int i = 0;
        while (i < rest.Length && rest[i] is >= '0' and <= '9')
        {
            accumulated = (accumulated * 10) + (uint)(rest[i] - '0');
            if (accumulated > uint.MaxValue)
            {
                return false;
            }

            i++;
        }

        if (i == 0)
        {
            return false;
        }

        value = (uint)accumulated;
        rest = rest[i..];
        return true;
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
