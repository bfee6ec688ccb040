using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Billing.IntegrationTests;

public sealed class Running_a_spot_market(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    private async Task KeepAliveAsync(TimeSpan span, params (string NodeId, HttpClient Agent)[] nodes)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += TimeSpan.FromSeconds(15))
        {
            api.Advance(TimeSpan.FromSeconds(15));
            foreach (var (nodeId, agent) in nodes)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 4)).StatusCode);
            }
        }
    }

    private async Task<List<decimal>> SpotHistoryAsync()
    {
        var history = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/prices/spot/{Platform.SpotSku}"), HttpStatusCode.OK);
        return history.EnumerateArray().Select(c => c.GetProperty("price").GetDecimal()).ToList();
    }

    private async Task RunSpotJobAsync() =>
        await PlatformClient.ReadAsync(await api.Ops.PostAsync("/v1/ops/jobs/fleet-spot-prices/run", null), HttpStatusCode.OK);

    [Fact]
    public async Task A_filling_pool_raises_the_spot_price_and_an_on_demand_request_preempts_spot_with_notice()
    {
        var (_, tenant) = await api.TenantAsync("spot-market");
        var nodes = new[] { await api.NodeAsync(Platform.SpotSku, gpuCount: 4), await api.NodeAsync(Platform.SpotSku, gpuCount: 4) };
        await KeepAliveAsync(TimeSpan.FromSeconds(15), nodes);
        await KeepAliveAsync(TimeSpan.FromMinutes(5), nodes);
        await RunSpotJobAsync();
        var idlePrice = Assert.Single(await SpotHistoryAsync());

        var spotLeases = new List<JsonElement>();
        foreach (var _ in nodes)
        {
            spotLeases.Add(await PlatformClient.ReadAsync(
                await tenant.PostAsJsonAsync("/v1/leases", new { sku = Platform.SpotSku, gpuCount = 4, pricing = "Spot" }), HttpStatusCode.Created));
        }

        for (var tick = 0; tick < 3; tick++)
        {
            await KeepAliveAsync(TimeSpan.FromMinutes(5), nodes);
            await RunSpotJobAsync();
            await RunSpotJobAsync();
        }

        var prices = await SpotHistoryAsync();
        Assert.Equal(0.60m, idlePrice); // 30 % of on demand when idle
        Assert.Equal(4, prices.Count); // one change per tick: a second run for the same tick publishes nothing
        Assert.True(prices.Zip(prices.Skip(1)).All(p => p.Second > p.First && p.Second <= p.First * 1.01m), string.Join(", ", prices));
        var book = await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/prices"), HttpStatusCode.OK);
        Assert.Contains(book.GetProperty("skus").EnumerateArray(), s => s.GetProperty("sku").GetString() == Platform.SpotSku && s.GetProperty("spot").GetDecimal() == prices[^1]);

        var requestedAt = api.Now;
        var onDemand = await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/leases", new { sku = Platform.SpotSku, gpuCount = 4, pricing = "OnDemand" }), HttpStatusCode.Created);
        var victim = spotLeases.Single(l => l.GetProperty("nodeId").GetString() == onDemand.GetProperty("nodeId").GetString());
        var victimId = victim.GetProperty("leaseId").GetGuid();
        var noticed = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{victimId}"), HttpStatusCode.OK);

        Assert.Equal("Pending", onDemand.GetProperty("state").GetString());
        Assert.Equal("PreemptionScheduled", noticed.GetProperty("state").GetString());
        var preemptAt = noticed.GetProperty("preemptAt").GetDateTimeOffset();
        Assert.Equal(preemptAt, onDemand.GetProperty("startedAt").GetDateTimeOffset());
        Assert.InRange(preemptAt - requestedAt, TimeSpan.FromSeconds(119.999), TimeSpan.FromSeconds(120));

        await KeepAliveAsync(TimeSpan.FromSeconds(135), nodes);

        var preempted = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{victimId}"), HttpStatusCode.OK);
        var running = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{onDemand.GetProperty("leaseId").GetGuid()}"), HttpStatusCode.OK);
        Assert.Equal("Preempted", preempted.GetProperty("state").GetString());
        Assert.Equal(preemptAt, preempted.GetProperty("endedAt").GetDateTimeOffset());
        Assert.True(preempted.GetProperty("settled").GetBoolean());
        var spotStart = victim.GetProperty("startedAt").GetDateTimeOffset();
        Assert.Equal(4 * (decimal)(preemptAt - spotStart).TotalSeconds, preempted.GetProperty("gpuSeconds").GetDecimal());
        Assert.Equal("Running", running.GetProperty("state").GetString());
    }
}
