using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CostModel.Factors;

namespace CostModel.Serialization;

/// <summary>
/// JSON of the data model in the documented schema (<c>docs/json-schema.md</c>): camelCase names,
/// enums as camelCase strings, readings as objects with their quality, time and source or reason.
/// </summary>
public static class CostModelJson
{
    /// <summary>Metadata for <see cref="NodeCostFactors"/>, to compose with the host's own serializer options.</summary>
    public static JsonTypeInfo<NodeCostFactors> NodeCostFactorsTypeInfo => CostModelJsonContext.Default.NodeCostFactors;

    /// <summary>Metadata for <see cref="NodeCapabilities"/>.</summary>
    public static JsonTypeInfo<NodeCapabilities> NodeCapabilitiesTypeInfo => CostModelJsonContext.Default.NodeCapabilities;

    /// <summary>Serialises a snapshot.</summary>
    /// <param name="factors">The snapshot.</param>
    public static string Serialize(NodeCostFactors factors) => JsonSerializer.Serialize(factors, NodeCostFactorsTypeInfo);

    /// <summary>Serialises a capability set.</summary>
    /// <param name="capabilities">The capabilities.</param>
    public static string Serialize(NodeCapabilities capabilities) => JsonSerializer.Serialize(capabilities, NodeCapabilitiesTypeInfo);

    /// <summary>Reads a snapshot.</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="JsonException">The text is not a valid snapshot (malformed, missing fields, values out of range).</exception>
    public static NodeCostFactors DeserializeFactors(string json) => Deserialize(json, NodeCostFactorsTypeInfo);

    /// <summary>Reads a capability set.</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="JsonException">The text is not a valid capability set.</exception>
    public static NodeCapabilities DeserializeCapabilities(string json) => Deserialize(json, NodeCapabilitiesTypeInfo);

    private static T Deserialize<T>(string json, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize(json, typeInfo) ?? throw new JsonException("The JSON text is null.");
        }
        catch (ArgumentException ex)
        {
            // Range validation in the model's constructors and init accessors.
            throw new JsonException(ex.Message, ex);
        }
    }
}
