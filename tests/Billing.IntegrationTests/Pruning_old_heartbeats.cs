using System.Net;
using System.Net.Http.Json;
using Billing.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.IntegrationTests;

public sealed class Pruning_old_heartbeats(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "H100-SXM-80GB";
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Heartbeats_past_the_retention_go_but_each_nodes_latest_stays_and_metering_goes_on()
    {
        var (busyId, busy) = await api.NodeAsync(Sku, gpuCount: 1);
        var (quietId, quiet) = await api.NodeAsync(Sku, gpuCount: 1);
        for (var i = 0; i < 4; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(busy, busyId, gpuCount: 1)).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(quiet, quietId, gpuCount: 1)).StatusCode);
        }

        api.Advance(TimeSpan.FromDays(8));
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(busy, busyId, gpuCount: 1)).StatusCode);
        var before = (await RowsAsync(busyId), await RowsAsync(quietId));
        await PlatformClient.ReadAsync(await api.Ops.PostAsync("/v1/ops/jobs/fleet-heartbeat-retention/run", null), HttpStatusCode.OK);
        var after = (await RowsAsync(busyId), await RowsAsync(quietId));

        var (_, tenant) = await api.TenantAsync("after-pruning");
        var lease = (await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 1, pricing = "OnDemand" }), HttpStatusCode.Created))
            .GetProperty("leaseId").GetGuid();
        for (var i = 0; i < 4; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(busy, busyId, gpuCount: 1)).StatusCode);
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{lease}/end", null), HttpStatusCode.OK);
        api.Advance(TimeSpan.FromSeconds(15));
        await api.HeartbeatAsync(busy, busyId, gpuCount: 1);
        var ended = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{lease}"), HttpStatusCode.OK);

        // Each node keeps the heartbeat a replay from the cutoff starts at, and everything after it.
        Assert.Equal((5, 4), before);
        Assert.Equal((2, 1), after);
        Assert.Equal(60m, ended.GetProperty("gpuSeconds").GetDecimal());
    }

    private async Task<long> RowsAsync(string nodeId)
    {
        var configuration = platform.Services.GetRequiredService<IConfiguration>();
        await using var connection = new NpgsqlConnection(configuration.PostgresConnectionString());
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand($"select count(*) from {configuration["Billing:Schema"]}.fleet_heartbeats where node_id = $1", connection);
        count.Parameters.Add(new NpgsqlParameter { Value = nodeId });
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
