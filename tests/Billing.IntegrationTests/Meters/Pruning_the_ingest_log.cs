using System.Net;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.IntegrationTests.Meters;

public sealed class Pruning_the_ingest_log(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Rows_past_the_dedup_window_go_their_copies_are_refused_and_the_month_still_reconciles()
    {
        var ingest = await new MeterEvents(platform, api).IngestKeyAsync();
        var (tenantId, tenant) = await api.TenantAsync();
        var period = BillingPeriod.Of(api.Now);
        var (start, end) = BillingPeriod.Bounds(period);
        var events = Enumerable.Range(0, 40).Select(i => MeterEvents.Token(tenantId, $"p-{i}", api.Now.AddMinutes(-i - 1), 1_000 + i)).ToList();
        var tokens = Enumerable.Range(0, 40).Sum(i => 1_000m + i);
        await MeterEvents.PostBatchAsync(ingest, events);
        var usage = $"/v1/usage?meter=llm-tokens&granularity=day&from={PlatformClient.Rfc3339(start)}&to={PlatformClient.Rfc3339(end)}";
        await PlatformClient.EventuallyAsync(async () => (await PlatformClient.ReadAsync(await tenant.GetAsync(usage), HttpStatusCode.OK)).GetProperty("total").GetDecimal(), tokens);
        var kept = await RowsAsync(tenantId);

        // A day past the window: the month closed, every row is older than a copy may be.
        platform.Time.SetUtcNow(api.Now + new MeterOptions().LateArrivalWindow + TimeSpan.FromDays(1));
        await api.RunJobAsync("invoicing-draft");
        await api.RunJobAsync(MeterEventRetentionJob.Id);
        var (accepted, duplicates, rejected) = await MeterEvents.AnswerAsync(await MeterEvents.PostBatchAsync(ingest, events.Take(5)));
        var reconciliation = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK);
        var row = reconciliation.GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("tenantId").GetString() == tenantId);
        var meter = Assert.Single(row.GetProperty("meters").EnumerateArray());

        Assert.Equal(40, kept);
        Assert.Equal(0, await RowsAsync(tenantId));
        Assert.Empty(accepted);
        Assert.Empty(duplicates);
        Assert.All(rejected, r => Assert.Contains("late-arrival", r.Problem));
        Assert.True(row.GetProperty("equal").GetBoolean(), row.GetRawText());
        Assert.Equal(40, meter.GetProperty("ingestedEvents").GetInt64());
        Assert.Equal(40, meter.GetProperty("aggregatedEvents").GetInt64());
        Assert.Equal([tokens, tokens, tokens, tokens], new[] { "ingested", "aggregated", "rated", "invoiced" }.Select(p => meter.GetProperty(p).GetDecimal()));
    }

    private async Task<long> RowsAsync(string tenantId)
    {
        await using var command = platform.Services.GetRequiredService<NpgsqlDataSource>()
            .CreateCommand($"select count(*) from {platform.Services.GetRequiredService<MeterEventLog>().Table} where tenant_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
