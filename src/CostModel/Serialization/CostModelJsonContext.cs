using System.Text.Json.Serialization;
using CostModel.Factors;

namespace CostModel.Serialization;

/// <summary>Source-generated System.Text.Json metadata for the public data model (AOT-safe, no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,

    // A snapshot without its node id, generation, version or capture time (or capabilities without
    // their node id or version) is not a snapshot: refused, not read as generation 0 at year 1.
    RespectRequiredConstructorParameters = true,
    Converters =
    [
        typeof(CamelCaseEnumConverter<SignalQuality>),
        typeof(CamelCaseEnumConverter<PowerSource>),
        typeof(CamelCaseEnumConverter<ChargeState>),
        typeof(CamelCaseEnumConverter<ThermalLevel>),
        typeof(CamelCaseEnumConverter<GpuVendor>),
        typeof(CamelCaseEnumConverter<CgroupLayout>),
        typeof(ResourceLimitJsonConverter),
        typeof(ReadingJsonConverter<double>),
        typeof(ReadingJsonConverter<long>),
        typeof(ReadingJsonConverter<int>),
        typeof(ReadingJsonConverter<bool>),
        typeof(ReadingJsonConverter<PowerSource>),
        typeof(ReadingJsonConverter<ChargeState>),
        typeof(ReadingJsonConverter<ThermalLevel>),
        typeof(ReadingJsonConverter<ResourceLimit>),
    ])]
[JsonSerializable(typeof(NodeCostFactors))]
[JsonSerializable(typeof(NodeCapabilities))]
[JsonSerializable(typeof(SignalQuality))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(PowerSource))]
[JsonSerializable(typeof(ChargeState))]
[JsonSerializable(typeof(ThermalLevel))]
[JsonSerializable(typeof(ResourceLimit))]
internal sealed partial class CostModelJsonContext : JsonSerializerContext;
