using Billing.Ledger.Meters;
using Billing.Ledger.Usage;

namespace Billing.Consoles;

/// <summary>
/// A meter usage question as the console's form gives it (by default the first meter, by model when it has that group),
/// checked as <c>GET /v1/usage?meter=</c> checks it: a known meter, one of its groups, by hour or day.
/// </summary>
public sealed record ConsoleMeterUsage(ConsoleUsage Range, string Meter, Meter? Definition, string? GroupBy, string? Problem)
{
    /// <summary>The group the page shows unless told otherwise: hosted models are what tenants ask about.</summary>
    public const string DefaultGroup = "model";

    /// <summary>The form's value for "no grouping": the meter's total per hour or day.</summary>
    public const string Ungrouped = "none";

    public static ConsoleMeterUsage Of(
        string? from, string? to, string? granularity, string? meter, string? groupBy, string tenantId, DateTimeOffset now, MeterOptions options)
    {
        var range = ConsoleUsage.Range(from, to, granularity, null, tenantId, now);
        var slug = string.IsNullOrWhiteSpace(meter) ? options.Definitions.Keys.Order(StringComparer.Ordinal).FirstOrDefault() ?? "" : meter;
        if (!options.Definitions.TryGetValue(slug, out var definition))
        {
            var known = string.Join(", ", options.Definitions.Keys.Order(StringComparer.Ordinal));
            return new(range, slug, null, null, known.Length == 0 ? "No meter is configured." : $"'meter' must be one of {known}.");
        }

        var group = string.IsNullOrWhiteSpace(groupBy)
            ? definition.GroupBy.ContainsKey(DefaultGroup) ? DefaultGroup : null
            : groupBy == Ungrouped ? null : groupBy;
        if (group is not null && !definition.GroupBy.ContainsKey(group))
        {
            return new(range, slug, definition, group, $"'groupBy' must be one of {string.Join(", ", definition.GroupBy.Keys.Order(StringComparer.Ordinal))}.");
        }

        return new(range, slug, definition, group, range.Problem);
    }

    /// <summary>The question to read, or null when <see cref="Problem"/> says why not.</summary>
    public UsageQuery? Query => Problem is null ? Range.Query : null;
}
