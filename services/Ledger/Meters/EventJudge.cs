using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Billing.ServiceDefaults.Validation;
using CloudNative.CloudEvents;

namespace Billing.Ledger.Meters;

/// <summary>One event of a post, judged: stored as <see cref="Event"/>, or refused for <see cref="Problem"/>.</summary>
public sealed record Judged(int Index, MeteredEvent? Event, string? Problem);

/// <summary>
/// Whether one CloudEvent can be metered, and as what: the rule, free of I/O. Each event is judged
/// alone; a refusal names its reason.
/// </summary>
public static class EventJudge
{
    /// <summary>Values beyond this are refused: a month of them still sums exactly in decimal.</summary>
    public const decimal MaxValue = 1_000_000_000_000m;

    public static Judged Judge(
        int index, CloudEvent cloudEvent, string? callerTenant, IReadOnlySet<string> tenants, IReadOnlyDictionary<string, Meter> meters,
        MeterOptions options, DateTimeOffset now)
    {
        var problem = Problem(cloudEvent, callerTenant, tenants, options, now);
        if (problem is not null)
        {
            return new Judged(index, null, problem);
        }

        var (slug, meter) = MeterFor(meters, cloudEvent.Type);
        if (meter is null)
        {
            return new Judged(index, null, $"No meter counts events of type '{InputRules.Printable(cloudEvent.Type)}'.");
        }

        var data = cloudEvent.Data is JsonElement element ? element : (JsonElement?)null;
        decimal value = 1;
        if (meter.Aggregation != MeterAggregation.Count)
        {
            var found = data is { } d ? JsonPaths.Find(d, meter.ValueProperty!) : null;
            if (found is not { ValueKind: JsonValueKind.Number } number || !number.TryGetDecimal(out value))
            {
                return new Judged(index, null, $"The value at '{meter.ValueProperty}' is missing or not a number.");
            }

            if (value is < 0 or > MaxValue)
            {
                return new Judged(index, null, $"The value at '{meter.ValueProperty}' must be from 0 to {MaxValue:0}.");
            }
        }

        var groups = new KeyValuePair<string, string>[meter.GroupBy.Count];
        var g = 0;
        foreach (var (name, path) in meter.GroupBy)
        {
            var found = data is { } d ? JsonPaths.Find(d, path) : null;
            var text = found?.ValueKind switch
            {
                JsonValueKind.String => found.Value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => found.Value.GetRawText(),
                _ => "",
            };
            if (!InputRules.IsSafeText(text) || text!.Length > InputRules.MaxNameLength)
            {
                return new Judged(index, null, $"The group value at '{path}' must be printable text of at most {InputRules.MaxNameLength} characters.");
            }

            groups[g++] = new(name, text);
        }

        var at = cloudEvent.Time ?? now;
        return new Judged(index, new MeteredEvent(cloudEvent.Source!.OriginalString, cloudEvent.Id!, cloudEvent.Subject!, slug, GroupKeys.Of(groups), value, at), null);
    }

    private static (string Slug, Meter? Meter) MeterFor(IReadOnlyDictionary<string, Meter> meters, string? type)
    {
        foreach (var (slug, meter) in meters)
        {
            if (meter.EventType == type)
            {
                return (slug, meter);
            }
        }

        return ("", null);
    }

    private static string? Problem(CloudEvent cloudEvent, string? callerTenant, IReadOnlySet<string> tenants, MeterOptions options, DateTimeOffset now)
    {
        if (cloudEvent.Source!.OriginalString.Length > 1000 || cloudEvent.Id!.Length > InputRules.MaxNameLength)
        {
            return "'source' may have at most 1000 characters and 'id' at most 200.";
        }

        if (cloudEvent.Subject is not { } subject || !InputRules.IsId(subject))
        {
            return "'subject' must name the tenant.";
        }

        if ((callerTenant is not null && subject != callerTenant) || !tenants.Contains(subject))
        {
            return $"No tenant '{subject}' that this key may report for.";
        }

        if (cloudEvent.Time is { } at && at > now + options.FutureTolerance)
        {
            return string.Create(CultureInfo.InvariantCulture, $"'time' is more than {options.FutureTolerance.TotalMinutes} minutes ahead of the server clock.");
        }

        if (cloudEvent.Time is { } old && old < now - options.LateArrivalWindow)
        {
            return string.Create(CultureInfo.InvariantCulture, $"'time' is older than the late-arrival window ({options.LateArrivalWindow.TotalDays} days).");
        }

        return null;
    }
}

/// <summary>A group's values as one key: a JSON object with the names in ordinal order, the same text for the same values.</summary>
public static class GroupKeys
{
    public static string Of(IEnumerable<KeyValuePair<string, string>> groups)
    {
        var sorted = groups.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, value) in sorted)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyDictionary<string, string> Parse(string key) => JsonSerializer.Deserialize<Dictionary<string, string>>(key)!;
}
