using System.Globalization;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Validation;
using CsvHelper;
using Marten;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Billing.Ledger.Meters;

public sealed record MeterUsageBucket(DateTimeOffset Start, string Key, decimal Quantity);

public sealed record MeterUsageReport(
    string TenantId, string Meter, DateTimeOffset From, DateTimeOffset To, Granularity Granularity, string? GroupBy,
    IReadOnlyList<MeterUsageBucket> Buckets, decimal Total);

/// <summary><c>GET /v1/usage?meter=</c>: a meter's usage by hour or day from the hourly aggregates, optionally by one of its groups.</summary>
public sealed class MeterUsageReader(IQuerySession session, IOptions<MeterOptions> options)
{
    public async Task<IResult> AnswerAsync(HttpContext http, string tenantId, DateTimeOffset from, DateTimeOffset to, UsageRequest request)
    {
        var granularity = EnumText.ParseOr(request.Granularity, Granularity.Hour);
        if (!options.Value.Definitions.TryGetValue(request.Meter!, out var meter))
        {
            return Problems.Invalid("The usage query is invalid.", new Dictionary<string, string[]> { ["meter"] = [$"One of {string.Join(", ", options.Value.Definitions.Keys)}."] });
        }

        if (request.GroupBy is { } group && !meter.GroupBy.ContainsKey(group))
        {
            return Problems.Invalid("The usage query is invalid.", new Dictionary<string, string[]> { ["groupBy"] = [$"One of {string.Join(", ", meter.GroupBy.Keys)}."] });
        }

        // Meters are aggregated by the hour: minutes are not kept apart from the stream's events.
        var query = new UsageQuery(tenantId, from, to, granularity == Granularity.Minute ? Granularity.Hour : granularity, UsageGrouping.Sku);
        if (granularity == Granularity.Minute || query.Problem() is not null)
        {
            return Problems.Invalid(granularity == Granularity.Minute ? "Meter usage is by hour or day." : query.Problem()!);
        }

        var report = await ReadAsync(query, request.Meter!, meter.Aggregation, request.GroupBy, http.RequestAborted);
        return http.Negotiated() == "text/csv" ? Results.Text(ToCsv(report), "text/csv") : Results.Ok(report);
    }

    public async Task<MeterUsageReport> ReadAsync(UsageQuery query, string meter, MeterAggregation aggregation, string? groupBy, CancellationToken cancellationToken)
    {
        var hours = await session.Query<MeterHour>()
            .Where(h => h.TenantId == query.TenantId && h.Meter == meter && h.HourStart >= query.From && h.HourStart < query.To)
            .ToListAsync(cancellationToken);
        var buckets = hours
            .GroupBy(h => (Start: query.BucketOf(h.HourStart), Key: groupBy is null ? meter : GroupKeys.Parse(h.GroupKey).GetValueOrDefault(groupBy, "")))
            .Select(g => new MeterUsageBucket(g.Key.Start, g.Key.Key, aggregation == MeterAggregation.Max ? g.Max(h => h.Quantity) : g.Sum(h => h.Quantity)))
            .OrderBy(b => b.Start).ThenBy(b => b.Key, StringComparer.Ordinal)
            .ToList();
        var total = aggregation == MeterAggregation.Max ? buckets.Select(b => b.Quantity).DefaultIfEmpty().Max() : buckets.Sum(b => b.Quantity);
        return new MeterUsageReport(query.TenantId, meter, query.From, query.To, query.Granularity, groupBy, buckets, total);
    }

    public static string ToCsv(MeterUsageReport report)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        csv.WriteRecords(report.Buckets.Select(b => new { start = b.Start.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), key = b.Key, quantity = b.Quantity }));
        return writer.ToString();
    }
}
