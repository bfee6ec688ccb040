using System.Net;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Billing.IntegrationTests.Meters;

public sealed class Rolling_up_token_usage(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Usage_by_model_shows_every_event_once_from_the_hourly_aggregates()
    {
        var ingest = await new MeterEvents(platform, api).IngestKeyAsync();
        var (tenantId, tenant) = await api.TenantAsync();
        var hour = TimeBuckets.StartOfHour(api.Now);
        var events = Enumerable.Range(0, 300)
            .Select(i => MeterEvents.Token(tenantId, $"u-{i}", hour.AddMinutes(-(i % 100) - 1), 1000 + i, model: i % 3 == 0 ? "big-chat" : "small-chat",
                tokenType: i % 2 == 0 ? "input" : "output"))
            .ToList();
        await MeterEvents.PostBatchAsync(ingest, events.Take(200));
        await MeterEvents.PostBatchAsync(ingest, events.Skip(150));
        var big = Enumerable.Range(0, 300).Where(i => i % 3 == 0).Sum(i => 1000m + i);
        var all = Enumerable.Range(0, 300).Sum(i => 1000m + i);
        var query = $"/v1/usage?meter=llm-tokens&from={PlatformClient.Rfc3339(hour.AddHours(-2))}&to={PlatformClient.Rfc3339(hour.AddHours(1))}";

        await PlatformClient.EventuallyAsync(async () => (await PlatformClient.ReadAsync(await tenant.GetAsync(query), HttpStatusCode.OK)).GetProperty("total").GetDecimal(), all);
        var day = new DateTimeOffset(hour.UtcDateTime.Date, TimeSpan.Zero);
        var byModel = await PlatformClient.ReadAsync(await tenant.GetAsync(
            $"/v1/usage?meter=llm-tokens&from={PlatformClient.Rfc3339(day)}&to={PlatformClient.Rfc3339(day.AddDays(1))}&groupBy=model&granularity=day"), HttpStatusCode.OK);
        var csv = await tenant.SendAsync(new HttpRequestMessage(HttpMethod.Get, query + "&groupBy=tokenType") { Headers = { { "Accept", "text/csv" } } });

        Assert.Equal(big, byModel.GetProperty("buckets").EnumerateArray().Where(b => b.GetProperty("key").GetString() == "big-chat").Sum(b => b.GetProperty("quantity").GetDecimal()));
        Assert.Equal(all, byModel.GetProperty("total").GetDecimal());
        Assert.StartsWith("start,key,quantity", await csv.Content.ReadAsStringAsync());
        await using var session = platform.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var hours = await session.Query<MeterHour>().Where(h => h.TenantId == tenantId).ToListAsync();
        var minutes = (await session.Events.FetchStreamAsync(MeterHour.StreamFor(tenantId, "llm-tokens", Billing.ServiceDefaults.BillingPeriod.Of(hour))))
            .Select(e => e.Data).OfType<MeterUsageAggregated>().ToList();
        Assert.Equal(300, hours.Sum(h => h.Events));
        Assert.Equal(all, minutes.Sum(m => m.Quantity));
        Assert.Equal(2 * 2 * 2, hours.Count);
    }

    [Fact]
    public async Task Rollups_racing_each_other_and_the_inserts_count_every_event_once()
    {
        var (tenantId, _) = await api.TenantAsync();
        var services = platform.Services;
        var store = services.GetRequiredService<IDocumentStore>();
        var schema = services.GetRequiredService<MeterEventLog>().Table.Split('.')[0];
        var connection = services.GetRequiredService<IConfiguration>().PostgresConnectionString();

        // Two more hosts' logs and rollups, on their own connections, beside this host's own rollup.
        var logs = new List<MeterEventLog>();
        var rollups = new List<MeterRollup>();
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var dataSource = NpgsqlDataSource.Create(connection);
            var log = new MeterEventLog(dataSource, schema, NullLogger<MeterEventLog>.Instance);
            await log.StartAsync(CancellationToken.None);
            logs.Add(log);
            rollups.Add(new MeterRollup(log, dataSource, store, services.GetRequiredService<IOptions<MeterOptions>>(), NullLogger<MeterRollup>.Instance));
        }

        var hour = TimeBuckets.StartOfHour(api.Now);
        var events = Enumerable.Range(0, 4000)
            .Select(i => new MeteredEvent("rollup-race", $"e-{i}", tenantId, "llm-tokens", GroupKeys.Of(new Dictionary<string, string> { ["model"] = i % 2 == 0 ? "a" : "b" }),
                1 + i % 7, hour.AddMinutes(-(i % 90))))
            .ToList();
        using var inserting = new CancellationTokenSource();
        var rolling = rollups.Select(r => Task.Run(async () =>
        {
            while (!inserting.IsCancellationRequested)
            {
                await r.RollAllAsync(CancellationToken.None);
            }
        })).ToList();

        // Each slice of 500 is posted twice, through both logs, while the three rollups run.
        var posts = Enumerable.Range(0, 16).Select(i => Task.Run(() => logs[i % 2].AppendAsync(events.Skip(i % 8 * 500).Take(500).ToList(), CancellationToken.None)));
        var stored = (await Task.WhenAll(posts)).Sum(r => r.Count(s => s));
        await inserting.CancelAsync();
        await Task.WhenAll(rolling);
        await rollups[0].RollAllAsync(CancellationToken.None);
        foreach (var log in logs)
        {
            await log.StopAsync(CancellationToken.None);
        }

        await using var session = store.QuerySession();
        var hours = await session.Query<MeterHour>().Where(h => h.TenantId == tenantId).ToListAsync();
        Assert.Equal(4000, stored);
        Assert.Equal(4000, hours.Sum(h => h.Events));
        Assert.Equal(events.Sum(e => e.Value), hours.Sum(h => h.Quantity));
    }

    [Fact]
    public async Task A_meter_the_book_lacks_or_a_group_it_lacks_is_refused()
    {
        var (_, tenant) = await api.TenantAsync();
        var range = $"from={PlatformClient.Rfc3339(TimeBuckets.StartOfHour(api.Now))}&to={PlatformClient.Rfc3339(TimeBuckets.StartOfHour(api.Now).AddHours(1))}";

        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.GetAsync($"/v1/usage?meter=no-such-meter&{range}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.GetAsync($"/v1/usage?meter=llm-tokens&groupBy=colour&{range}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.GetAsync($"/v1/usage?meter=llm-tokens&granularity=minute&{range}")).StatusCode);
    }
}
