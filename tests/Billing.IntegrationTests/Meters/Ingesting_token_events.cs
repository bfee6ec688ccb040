using System.Net;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Billing.IntegrationTests.Meters;

public sealed class Ingesting_token_events(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    private MeterEvents Events => new(platform, api);

    [Fact]
    public async Task The_default_meters_list_llm_tokens()
    {
        var (_, tenant) = await api.TenantAsync();
        var list = await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/meters"), HttpStatusCode.OK);
        var meter = Assert.Single(list.GetProperty("meters").EnumerateArray(), m => m.GetProperty("slug").GetString() == "llm-tokens");
        Assert.Equal("$.tokens", meter.GetProperty("valueProperty").GetString());
        Assert.Equal("Sum", meter.GetProperty("aggregation").GetString());
        Assert.Equal(["model", "tokenType"], meter.GetProperty("groupBy").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task A_batch_stores_the_good_events_and_names_each_refused_one()
    {
        var ingest = await Events.IngestKeyAsync();
        var (tenantId, _) = await api.TenantAsync();
        var now = api.Now;
        object[] batch =
        [
            MeterEvents.Token(tenantId, "a-1", now, 100),
            MeterEvents.Token(tenantId, "a-2", now, "lots"),
            MeterEvents.Token(tenantId, "a-3", now.AddMinutes(3), 5),
            MeterEvents.Token(tenantId, "a-4", now.AddDays(-36), 5),
            MeterEvents.Token(tenantId, "a-5", now, 5, type: "com.billing.unknown"),
            MeterEvents.Token("t-nobody", "a-6", now, 5),
            new { specversion = "1.0", id = "a-7" },
            MeterEvents.Token(tenantId, "a-8", now.AddMinutes(-1), 250, tokenType: "output"),
            MeterEvents.Token(tenantId, "a-1", now, 100),
        ];

        var (accepted, duplicates, rejected) = await MeterEvents.AnswerAsync(await MeterEvents.PostBatchAsync(ingest, batch));

        Assert.Equal([0, 7], accepted);
        Assert.Equal([8], duplicates);
        Assert.Equal([1, 2, 3, 4, 5, 6], rejected.Select(r => r.Index));
        Assert.Contains("not a number", rejected[0].Problem);
        Assert.Contains("ahead", rejected[1].Problem);
        Assert.Contains("late-arrival", rejected[2].Problem);
        Assert.Contains("No meter", rejected[3].Problem);
        Assert.Contains("No tenant", rejected[4].Problem);
        Assert.Contains("Not a CloudEvent", rejected[5].Problem);
        Assert.Equal((2, 350m), await StoredAsync(tenantId));
    }

    [Fact]
    public async Task A_tenant_key_reports_only_for_its_own_tenant()
    {
        var (tenantId, tenant) = await api.TenantAsync();
        var (otherId, _) = await api.TenantAsync("other");

        var (accepted, _, rejected) = await MeterEvents.AnswerAsync(await MeterEvents.PostOneAsync(tenant, MeterEvents.Token(tenantId, "own-1", api.Now, 7)));
        var (_, _, refused) = await MeterEvents.AnswerAsync(await MeterEvents.PostOneAsync(tenant, MeterEvents.Token(otherId, "other-1", api.Now, 7)));

        Assert.Equal([0], accepted);
        Assert.Empty(rejected);
        Assert.Equal(0, Assert.Single(refused).Index);
        Assert.Equal((0, 0m), await StoredAsync(otherId));
    }

    [Fact]
    public async Task A_copy_after_a_restart_is_a_duplicate()
    {
        var ingest = await Events.IngestKeyAsync();
        var (tenantId, _) = await api.TenantAsync();
        var events = Enumerable.Range(0, 20).Select(i => MeterEvents.Token(tenantId, $"r-{i}", api.Now, 10 + i)).ToList();
        Assert.Equal(20, (await MeterEvents.AnswerAsync(await MeterEvents.PostBatchAsync(ingest, events))).Accepted.Length);

        await platform.RestartAsync();
        var (accepted, duplicates, _) = await MeterEvents.AnswerAsync(await MeterEvents.PostBatchAsync(ingest, events.Take(10)));

        Assert.Empty(accepted);
        Assert.Equal(Enumerable.Range(0, 10), duplicates);
        Assert.Equal((20, Enumerable.Range(0, 20).Sum(i => 10m + i)), await StoredAsync(tenantId));
    }

    [Fact]
    public async Task Two_ingest_processes_racing_with_the_same_events_store_each_once()
    {
        var (tenantId, _) = await api.TenantAsync();
        var schema = platform.Services.GetRequiredService<MeterEventLog>().Table.Split('.')[0];
        var connection = platform.Services.GetRequiredService<IConfiguration>().PostgresConnectionString();

        // Two logs with their own connections and writers: what two hosts' ingest endpoints run.
        var logs = new List<MeterEventLog>();
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var log = new MeterEventLog(NpgsqlDataSource.Create(connection), schema, NullLogger<MeterEventLog>.Instance);
            await log.StartAsync(CancellationToken.None);
            logs.Add(log);
        }

        var events = Enumerable.Range(0, 2000)
            .Select(i => new MeteredEvent("race", $"e-{i}", tenantId, "llm-tokens", GroupKeys.Of(new Dictionary<string, string> { ["model"] = "m" }), 1, api.Now))
            .ToList();
        var posts = Enumerable.Range(0, 8).Select(i => Task.Run(() => logs[i % 2].AppendAsync(events.Skip(i % 4 * 250).Take(1000).ToList(), CancellationToken.None)));
        var stored = (await Task.WhenAll(posts)).Sum(r => r.Count(s => s));
        foreach (var log in logs)
        {
            await log.StopAsync(CancellationToken.None);
        }

        Assert.Equal(1750, stored);
        Assert.Equal((1750, 1750m), await StoredAsync(tenantId));
    }

    private async Task<(long Count, decimal Sum)> StoredAsync(string tenantId)
    {
        var log = platform.Services.GetRequiredService<MeterEventLog>();
        await using var command = platform.Services.GetRequiredService<NpgsqlDataSource>()
            .CreateCommand($"select count(*), coalesce(sum(value), 0) from {log.Table} where tenant_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetDecimal(1));
    }
}
