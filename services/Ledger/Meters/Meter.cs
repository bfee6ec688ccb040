using System.Text.Json;
using System.Text.RegularExpressions;

namespace Billing.Ledger.Meters;

/// <summary>How a meter folds the values of its events.</summary>
public enum MeterAggregation
{
    /// <summary>The values added up (tokens).</summary>
    Sum,

    /// <summary>One per event (requests); the value property is not read.</summary>
    Count,

    /// <summary>The largest value seen in the period (peak concurrency).</summary>
    Max,
}

/// <summary>
/// What a meter counts: events of <see cref="EventType"/>, the number at <see cref="ValueProperty"/>
/// in their data, folded by <see cref="Aggregation"/>, grouped by the values at the
/// <see cref="GroupBy"/> paths (e.g. model and token type).
/// </summary>
public sealed class Meter
{
    public string EventType { get; set; } = "";

    /// <summary>A JSON path into the event's data, dotted names only (<c>$.tokens</c>, <c>$.usage.input</c>).</summary>
    public string? ValueProperty { get; set; }

    public MeterAggregation Aggregation { get; set; } = MeterAggregation.Sum;

    public Dictionary<string, string> GroupBy { get; set; } = [];

    /// <summary>What one counted unit is, plural (<c>Tokens</c>): the FOCUS export's consumed and pricing unit.</summary>
    public string Unit { get; set; } = "Units";
}

/// <summary>The configured meters (section <c>Billing:Meters</c>), by slug, and how late an event may arrive.</summary>
public sealed partial class MeterOptions
{
    public const string Section = "Billing:Meters";

    public Dictionary<string, Meter> Definitions { get; set; } = [];

    /// <summary>Events older than this are refused; it is also how long (source, id) pairs are kept to catch copies.</summary>
    public TimeSpan LateArrivalWindow { get; set; } = TimeSpan.FromDays(35);

    public TimeSpan FutureTolerance { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>What is wrong with the definitions, or nothing: checked once at start, so a bad book never ingests.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (slug, meter) in Definitions)
        {
            if (!SlugPattern().IsMatch(slug))
            {
                yield return $"Meter '{slug}': a slug is 1 to 64 of a-z 0-9 and '-'.";
            }

            if (meter.EventType.Length == 0)
            {
                yield return $"Meter '{slug}' has no event type.";
            }

            if (meter.Aggregation != MeterAggregation.Count && !JsonPaths.IsValid(meter.ValueProperty))
            {
                yield return $"Meter '{slug}' needs a value property such as '$.tokens'.";
            }

            foreach (var (name, path) in meter.GroupBy.Where(g => !JsonPaths.IsValid(g.Value)))
            {
                yield return $"Meter '{slug}' groups '{name}' by '{path}', which is not a path such as '$.model'.";
            }
        }

        // One meter per event type: an event is then counted once, by one meter, under one (source, id).
        foreach (var type in Definitions.GroupBy(d => d.Value.EventType).Where(g => g.Count() > 1))
        {
            yield return $"Event type '{type.Key}' has more than one meter: {string.Join(", ", type.Select(t => t.Key))}.";
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex SlugPattern();
}

/// <summary>The JSON paths meters use: <c>$</c> followed by dotted property names.</summary>
public static partial class JsonPaths
{
    public static bool IsValid(string? path) => path is not null && PathPattern().IsMatch(path);

    /// <summary>The element at <paramref name="path"/>, or null when a step is missing or not an object.</summary>
    public static JsonElement? Find(JsonElement root, string path)
    {
        var at = root;
        var steps = path.AsSpan(2);
        foreach (var step in steps.Split('.'))
        {
            if (at.ValueKind != JsonValueKind.Object || !at.TryGetProperty(steps[step], out at))
            {
                return null;
            }
        }

        return at;
    }

    [GeneratedRegex(@"^\$(\.[A-Za-z_][A-Za-z0-9_-]*)+$")]
    private static partial Regex PathPattern();
}
