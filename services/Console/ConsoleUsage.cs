using System.Globalization;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults.Validation;

namespace Billing.Consoles;

/// <summary>A usage range as the console's form gives it, checked as <c>GET /v1/usage</c> checks it; by default this month by day.</summary>
public sealed record ConsoleUsage(string From, string To, UsageQuery? Query, string? Problem)
{
    public static ConsoleUsage Range(string? from, string? to, string? granularity, string? groupBy, string tenantId, DateTimeOffset now)
    {
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        from = string.IsNullOrWhiteSpace(from) ? Rfc3339(monthStart) : from;
        to = string.IsNullOrWhiteSpace(to) ? Rfc3339(new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1)) : to;
        var checks = new UsageRequestValidator().Validate(new UsageRequest(from, to, granularity, groupBy, null));
        if (!checks.IsValid)
        {
            return new ConsoleUsage(from, to, null, string.Join(" ", checks.Errors.Select(e => e.ErrorMessage)));
        }

        InputRules.TryParseTime(from, out var start);
        InputRules.TryParseTime(to, out var end);
        var query = new UsageQuery(tenantId, start, end, EnumText.ParseOr(granularity, Granularity.Day), EnumText.ParseOr(groupBy, UsageGrouping.Sku));
        if (query.Granularity == Granularity.Minute)
        {
            return new ConsoleUsage(from, to, null, "The console shows usage by hour or by day.");
        }

        return query.Problem() is { } problem ? new ConsoleUsage(from, to, null, problem) : new ConsoleUsage(from, to, query, null);
    }

    /// <summary>A chart's label for a bucket starting at <paramref name="start"/>: the day, or the day and hour.</summary>
    public static string Label(DateTimeOffset start, Granularity granularity) =>
        start.ToString(granularity == Granularity.Day ? "MM-dd" : "dd HH:mm", CultureInfo.InvariantCulture);

    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
