using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using CostModel.Factors;

namespace CostModel.Serialization;

/// <summary>
/// Writes a reading as <c>{"quality":"measured","value":12.5,"observedAt":"...","source":"/proc/stat"}</c>
/// or, without a value, <c>{"quality":"unknown","reason":"...","observedAt":"..."}</c>.
/// Reading rejects a value-bearing quality without a value, and a value on an Unknown reading.
/// </summary>
internal sealed class ReadingJsonConverter<T> : JsonConverter<Reading<T>>
    where T : struct
{
    public override Reading<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A reading must be a JSON object.");
        }

        var valueInfo = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        var qualityInfo = (JsonTypeInfo<SignalQuality>)options.GetTypeInfo(typeof(SignalQuality));
        SignalQuality? quality = null;
        T value = default;
        bool hasValue = false;
        DateTimeOffset? observedAt = null;
        string? note = null;

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                throw new JsonException("Malformed reading.");
            }

            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "quality":
                    quality = JsonSerializer.Deserialize(ref reader, qualityInfo);
                    break;
                case "value":
                    value = JsonSerializer.Deserialize(ref reader, valueInfo);
                    hasValue = true;
                    break;
                case "observedAt":
                    observedAt = reader.TokenType == JsonTokenType.Null ? null : reader.GetDateTimeOffset();
                    break;
                case "source":
                case "reason":
                    note = reader.GetString();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (quality is not { } q)
        {
            throw new JsonException("A reading needs a quality.");
        }

        long ticks = observedAt?.UtcTicks ?? 0;
        if (q >= SignalQuality.Measured)
        {
            if (!hasValue)
            {
                throw new JsonException($"A {q} reading needs a value.");
            }

            try
            {
                return Reading.Create(value, q, ticks, note);
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new JsonException(ex.Message, ex);
            }
        }

        if (hasValue)
        {
            throw new JsonException($"A {q} reading must not carry a value.");
        }

        return new Reading<T>(default, q, ticks, string.IsNullOrWhiteSpace(note) ? null : note);
    }

    public override void Write(Utf8JsonWriter writer, Reading<T> reading, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("quality");
        JsonSerializer.Serialize(writer, reading.Quality, (JsonTypeInfo<SignalQuality>)options.GetTypeInfo(typeof(SignalQuality)));
        if (reading.HasValue)
        {
            writer.WritePropertyName("value");
            JsonSerializer.Serialize(writer, reading.RawValue, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
        }

        if (reading.ObservedAt is { } at)
        {
            writer.WriteString("observedAt", at);
        }

        if (reading.HasValue)
        {
            if (reading.Source is { } source)
            {
                writer.WriteString("source", source);
            }
        }
        else
        {
            writer.WriteString("reason", reading.Reason);
        }

        writer.WriteEndObject();
    }
}

/// <summary>Writes a limit as the string <c>"unlimited"</c> or a positive number.</summary>
internal sealed class ResourceLimitJsonConverter : JsonConverter<ResourceLimit>
{
    private const string UnlimitedText = "unlimited";

    public override ResourceLimit Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(UnlimitedText))
        {
            return ResourceLimit.Unlimited;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double amount) && double.IsFinite(amount) && amount > 0)
        {
            return ResourceLimit.Of(amount);
        }

        throw new JsonException("A limit is \"unlimited\" or a positive number.");
    }

    public override void Write(Utf8JsonWriter writer, ResourceLimit value, JsonSerializerOptions options)
    {
        if (value.IsUnlimited)
        {
            writer.WriteStringValue(UnlimitedText);
        }
        else
        {
            writer.WriteNumberValue(value.Amount);
        }
    }
}

/// <summary>Enums as camelCase strings.</summary>
internal sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    where TEnum : struct, Enum;
