using CostModel.Platforms.MacOS.Thermal;

namespace CostModel.Platforms.Tests.MacOS.Thermal;

/// <summary>
/// An <see cref="IMacCpuPowerStatus"/> that answers what a test or a fuzz input sets. Shared by the
/// platform tests and the fuzzer's mac target (linked there).
/// </summary>
internal sealed class FakeCpuPowerStatus : IMacCpuPowerStatus
{
    /// <summary>Whether the Mac is Apple silicon.</summary>
    public bool AppleSilicon { get; set; }

    /// <summary>What <see cref="Read"/> answers.</summary>
    public CpuPowerStatus Result { get; set; } = new(null, MacThermalReader.IOReturnNotFound);

    /// <summary>Thrown by <see cref="Read"/> when set.</summary>
    public Exception? Failure { get; set; }

    /// <inheritdoc />
    public bool IsAppleSilicon => AppleSilicon;

    /// <inheritdoc />
    public CpuPowerStatus Read() => Failure is { } failure ? throw failure : Result;
}
