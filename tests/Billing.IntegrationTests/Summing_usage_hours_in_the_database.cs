using System.Globalization;
using System.Net;
using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Messaging;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.IntegrationTests;

/// <summary>
/// Hour and day reports are sums PostgreSQL computes: by SKU and pricing over the ratable hours, by lease over
/// the hourly projection. Both must give what the windows the ledger stored add up to, bucket by bucket.
/// </summary>
public sealed class Summing_usage_hours_in_the_database(Platform platform) : IClassFixture<Platform>
{
    private static readonly DateTimeOffset From = new(2026, 11, 5, 22, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddHours(6);

    private static readonly (string Sku, PricingModel Pricing)[] Leases =
    [
        ("H100-SXM-80GB", PricingModel.OnDemand), ("H100-SXM-80GB", PricingModel.Spot), ("A100-80GB", PricingModel.OnDemand),
        ("A100-80GB", PricingModel.Reserved), ("H100-SXM-80GB", PricingModel.OnDemand),
    ];

    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Hourly_and_daily_reports_by_sku_pricing_and_lease_equal_the_windows_sums()
    {
        var (tenantId, tenant) = await api.TenantAsync();
        var leaseIds = Leases.Select(_ => Guid.NewGuid()).ToArray();
        var usage = leaseIds.SelectMany((leaseId, i) => Windows(tenantId, leaseId, i)).ToList();
        // Just outside the hourly range on both sides (inside the days), and another tenant's usage in it.
        usage.Add(Usage(tenantId, leaseIds[0], 0, From.AddMinutes(-1), 17.5m));
        usage.Add(Usage(tenantId, leaseIds[2], 2, To, 33.25m));
        usage.Add(Usage("someone-else", Guid.NewGuid(), 0, From, 1000m));
        var ledger = platform.Services.GetRequiredService<LedgerRouter>();
        foreach (var batch in usage.Chunk(25))
        {
            await ledger.SendAsync(new UsageRecordedBatch(Guid.NewGuid(), batch));
        }

        var mine = usage.Where(u => u.TenantId == tenantId).ToList();
        var inRange = mine.Where(u => u.WindowStart >= From && u.WindowStart < To).ToList();
        // By lease the report reads the async projection: wait until it has every window of the tenant.
        var (dayFrom, dayTo) = (From.AddHours(-22), From.AddHours(26));
        await PlatformClient.EventuallyAsync(async () => (await ReportAsync(tenant, dayFrom, dayTo, "day", "lease")).Sum(b => b.GpuSeconds), mine.Sum(u => u.GpuSeconds));

        var bySku = await ReportAsync(tenant, From, To, "hour", "sku");
        var byPricing = await ReportAsync(tenant, From, To, "hour", "pricing");
        var byLease = await ReportAsync(tenant, From, To, "hour", "lease");
        var days = await ReportAsync(tenant, dayFrom, dayTo, "day", "sku");
        var leaseDays = await ReportAsync(tenant, dayFrom, dayTo, "day", "lease");

        Assert.Equal(Expected(inRange, TimeSpan.FromHours(1), u => u.Sku), bySku);
        Assert.Equal(Expected(inRange, TimeSpan.FromHours(1), u => u.Pricing.ToString()), byPricing);
        Assert.Equal(Expected(inRange, TimeSpan.FromHours(1), u => u.LeaseId.ToString()), byLease);
        Assert.Equal(Expected(mine, TimeSpan.FromDays(1), u => u.Sku), days);
        Assert.Equal(Expected(mine, TimeSpan.FromDays(1), u => u.LeaseId.ToString()), leaseDays);
        Assert.Equal(PerHour(byLease), PerHour(bySku));
        Assert.Equal(PerHour(byLease), PerHour(byPricing));
        Assert.Equal(6, PerHour(bySku).Count); // every hour of the range has usage
        Assert.Equal(bySku, await CsvReportAsync(tenant, From, To));

        // Hours stored before the report's columns existed, and before hours kept a total: Marten adds the columns
        // and fills them from the documents, the minutes stand in for the missing total. The same report.
        var store = platform.Services.GetRequiredService<IDocumentStore>();
        var table = store.Options.Schema.For<RatableHour>();
        await using (var strip = platform.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            $"alter table {table} drop column tenant_id, drop column hour_start, drop column sku, drop column pricing, drop column total_gpu_seconds; " +
            $"update {table} set data = data - 'totalGpuSeconds'"))
        {
            await strip.ExecuteNonQueryAsync();
        }

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        Assert.Equal(bySku, await ReportAsync(tenant, From, To, "hour", "sku"));
        Assert.Equal(byPricing, await ReportAsync(tenant, From, To, "hour", "pricing"));
    }

    /// <summary>Lease <paramref name="index"/>'s windows: two of every three hours, a few minutes each, fractions of a second included.</summary>
    private static IEnumerable<UsageRecorded> Windows(string tenantId, Guid leaseId, int index) =>
        from hour in Enumerable.Range(0, 6)
        where (hour + index) % 3 != 0
        from minute in Enumerable.Range(0, 3 + index)
        select Usage(tenantId, leaseId, index, From.AddHours(hour).AddMinutes(minute * 7), 60m * (index + 1) - 0.125m * minute);

    private static UsageRecorded Usage(string tenantId, Guid leaseId, int index, DateTimeOffset window, decimal gpuSeconds) =>
        new(DeterministicGuid.Create($"sums:{tenantId}:{leaseId:N}:{window:O}"), leaseId, tenantId, "node-sums", Leases[index].Sku, Leases[index].Pricing,
            window, gpuSeconds, window.AddMinutes(1), UnbilledGpuSeconds: index == 1 ? 5m : 0m);

    private static List<(DateTimeOffset Start, string Key, decimal GpuSeconds)> Expected(
        IEnumerable<UsageRecorded> usage, TimeSpan bucket, Func<UsageRecorded, string> key) =>
        usage.GroupBy(u => (Start: new DateTimeOffset(u.WindowStart.UtcTicks - u.WindowStart.UtcTicks % bucket.Ticks, TimeSpan.Zero), Key: key(u)))
            .Select(g => (g.Key.Start, g.Key.Key, g.Sum(u => u.GpuSeconds)))
            .OrderBy(b => b.Start).ThenBy(b => b.Key, StringComparer.Ordinal)
            .ToList();

    private static List<(DateTimeOffset Start, decimal GpuSeconds)> PerHour(IEnumerable<(DateTimeOffset Start, string Key, decimal GpuSeconds)> buckets) =>
        buckets.GroupBy(b => b.Start).Select(g => (g.Key, g.Sum(b => b.GpuSeconds))).ToList();

    private static string Query(DateTimeOffset from, DateTimeOffset to, string granularity, string groupBy) =>
        $"/v1/usage?from={PlatformClient.Rfc3339(from)}&to={PlatformClient.Rfc3339(to)}&granularity={granularity}&groupBy={groupBy}";

    private static async Task<List<(DateTimeOffset Start, string Key, decimal GpuSeconds)>> ReportAsync(
        HttpClient tenant, DateTimeOffset from, DateTimeOffset to, string granularity, string groupBy)
    {
        var report = await PlatformClient.ReadAsync(await tenant.GetAsync(Query(from, to, granularity, groupBy)), HttpStatusCode.OK);
        var buckets = report.GetProperty("buckets").EnumerateArray()
            .Select(b => (b.GetProperty("start").GetDateTimeOffset(), b.GetProperty("key").GetString()!, b.GetProperty("gpuSeconds").GetDecimal()))
            .ToList();
        Assert.Equal(buckets.Sum(b => b.Item3), report.GetProperty("totalGpuSeconds").GetDecimal());
        return buckets;
    }

    private static async Task<List<(DateTimeOffset Start, string Key, decimal GpuSeconds)>> CsvReportAsync(HttpClient tenant, DateTimeOffset from, DateTimeOffset to)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Query(from, to, "hour", "sku"));
        request.Headers.Accept.ParseAdd("text/csv");
        var csv = await (await tenant.SendAsync(request)).Content.ReadAsStringAsync();
        return csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1)
            .Select(r => r.Split(','))
            .Select(r => (DateTimeOffset.Parse(r[0], CultureInfo.InvariantCulture), r[1], decimal.Parse(r[2], CultureInfo.InvariantCulture)))
            .ToList();
    }
}
