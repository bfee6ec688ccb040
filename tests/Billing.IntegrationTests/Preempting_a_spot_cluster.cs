using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Billing.IntegrationTests;

/// <summary>
/// A spot lease of 2 × 8 GPUs runs a minute; an on-demand cluster request that only fits on its
/// nodes preempts it whole with the usual 120 s notice. The spot lease is billed to the notice's
/// end on both nodes, and the on-demand lease from there, through the real broker and ledger.
/// </summary>
public sealed class Preempting_a_spot_cluster(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = Platform.SpotSku;
    private readonly PlatformClient api = new(platform);

    private async Task<(string NodeId, HttpClient Agent)> NodeAsync()
    {
        var nodeId = $"node-{Guid.NewGuid():N}"[..17];
        var created = await PlatformClient.ReadAsync(
            await api.Ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku = Sku, gpuCount = 8, region = "test-1", fabric = "roce-1" }), HttpStatusCode.Created);
        return (nodeId, platform.Client(created.GetProperty("agentKey").GetString()));
    }

    [Fact]
    public async Task The_spot_cluster_is_billed_exactly_to_its_notice_end_on_every_node()
    {
        var (_, spotTenant) = await api.TenantAsync("spotter");
        var (_, trainer) = await api.TenantAsync("trainer");
        var nodes = new[] { await NodeAsync(), await NodeAsync() };
        async Task BeatAsync(int times)
        {
            for (var i = 0; i < times; i++)
            {
                api.Advance(TimeSpan.FromSeconds(15));
                foreach (var (nodeId, agent) in nodes)
                {
                    Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId)).StatusCode);
                }
            }
        }

        await BeatAsync(1);
        var t0 = api.Now;
        var spot = await PlatformClient.ReadAsync(
            await spotTenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 16, pricing = "Spot" }), HttpStatusCode.Created);
        var spotId = spot.GetProperty("leaseId").GetGuid();
        await BeatAsync(4);

        var onDemand = await PlatformClient.ReadAsync(
            await trainer.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 16, pricing = "OnDemand", fabric = "roce-1" }), HttpStatusCode.Created);
        var onDemandId = onDemand.GetProperty("leaseId").GetGuid();
        var noticed = await LeaseAsync(spotTenant, spotId);
        var preemptAt = t0.AddSeconds(180);
        Assert.Equal(("Pending", preemptAt), (onDemand.GetProperty("state").GetString(), onDemand.GetProperty("startedAt").GetDateTimeOffset()));
        Assert.Equal(("PreemptionScheduled", preemptAt), (noticed.GetProperty("state").GetString(), noticed.GetProperty("preemptAt").GetDateTimeOffset()));

        await BeatAsync(10);
        await PlatformClient.ReadAsync(await trainer.PostAsync($"/v1/leases/{onDemandId}/end", null), HttpStatusCode.OK);
        await BeatAsync(1);

        var hour = new DateTimeOffset(t0.UtcTicks - t0.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(spotTenant, hour, hour.AddHours(1)), 16 * 180m);
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(trainer, hour, hour.AddHours(1)), 16 * 30m);
        var preempted = await LeaseAsync(spotTenant, spotId);
        Assert.Equal(("Preempted", preemptAt, true), (preempted.GetProperty("state").GetString(), preempted.GetProperty("endedAt").GetDateTimeOffset(), preempted.GetProperty("settled").GetBoolean()));
        Assert.All(preempted.GetProperty("nodes").EnumerateArray(), n =>
            Assert.Equal((preemptAt, 8 * 180m), (n.GetProperty("leftAt").GetDateTimeOffset(), n.GetProperty("gpuSeconds").GetDecimal())));
        var byNode = await PlatformClient.ReadAsync(await spotTenant.GetAsync(
            $"/v1/usage?from={PlatformClient.Rfc3339(hour)}&to={PlatformClient.Rfc3339(hour.AddHours(1))}&granularity=hour&groupBy=node&leaseId={spotId}"), HttpStatusCode.OK);
        Assert.Equal(nodes.Select(n => (n.NodeId, 8 * 180m)).Order(), byNode.GetProperty("buckets").EnumerateArray()
            .Select(b => (b.GetProperty("key").GetString()!, b.GetProperty("gpuSeconds").GetDecimal())).Order());
    }

    private static async Task<JsonElement> LeaseAsync(HttpClient tenant, Guid leaseId) =>
        await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
}
