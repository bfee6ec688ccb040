using System.Text.Json.Serialization;
using Billing.ServiceDefaults;

namespace Billing.Invoicing.Exports;

/// <summary>FOCUS names its metadata fields in Pascal case: the names are pinned so the API's JSON options and its OpenAPI schema keep them.</summary>
public sealed record FocusColumnDefinition([property: JsonPropertyName("ColumnName")] string ColumnName, [property: JsonPropertyName("DataType")] string DataType);

/// <summary>
/// The FOCUS metadata of the export (served at <see cref="Path"/>, linked from every export as
/// <c>describedby</c>): FOCUS has no version column; a dataset declares its version in its schema's
/// metadata, which a reader must find without parsing the data.
/// </summary>
/// <remarks>
/// <see cref="SchemaId"/> is derived from the version and the column list, so it changes whenever
/// the structure does, as FOCUS requires; <see cref="CreationDate"/> is when this schema was defined.
/// </remarks>
public sealed record FocusMetadata(
    [property: JsonPropertyName("DataGenerator")] string DataGenerator,
    [property: JsonPropertyName("SchemaId")] string SchemaId,
    [property: JsonPropertyName("CreationDate")] string CreationDate,
    [property: JsonPropertyName("FocusVersion")] string FocusVersion,
    [property: JsonPropertyName("ColumnDefinition")] IReadOnlyList<FocusColumnDefinition> ColumnDefinition)
{
    public const string Version = "1.2";

    public const string Path = "/v1/exports/focus/metadata";

    public static FocusMetadata Current { get; } = new(
        $"{ExportText.PlatformName} billing",
        DeterministicGuid.Create($"focus-schema:{Version}:{string.Join(',', FocusColumns.All.Select(c => $"{c.Name}:{c.DataType}"))}").ToString(),
        "2026-11-28T00:00:00Z",
        Version,
        FocusColumns.All.Select(c => new FocusColumnDefinition(c.Name, c.DataType)).ToList());
}
