using System.Text.Json;
using System.Text.Json.Serialization;

namespace Billing.ServiceDefaults.Validation;

/// <summary>
/// Times in request bodies are RFC 3339 with an explicit offset. System.Text.Json alone also takes a
/// time without offset and reads it in the server's zone, which would move usage between periods.
/// </summary>
public sealed class Rfc3339Converter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && InputRules.TryParseTime(reader.GetString(), out var at)
            ? at
            : throw new JsonException("Expected an RFC 3339 time with its offset.");

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value);
}
