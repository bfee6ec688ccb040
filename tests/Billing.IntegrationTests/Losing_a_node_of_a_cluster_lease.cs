using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Billing.IntegrationTests;

/// <summary>
/// A 4 × 8-GPU lease on one fabric: one node goes silent after a minute, is replaced by the spare
/// node of the fabric, and the lease is billed exactly what the heartbeats vouched for, node by node.
/// </summary>
public sealed class Losing_a_node_of_a_cluster_lease(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "H100-SXM-80GB";
    private const string Fabric = "ib-east-1";
    private readonly PlatformClient api = new(platform);

    private async Task<(string NodeId, HttpClient Agent)> NodeAsync(string rack)
    {
        var nodeId = $"node-{Guid.NewGuid():N}"[..17];
        var created = await PlatformClient.ReadAsync(
            await api.Ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku = Sku, gpuCount = 8, region = "test-1", fabric = Fabric, rack }), HttpStatusCode.Created);
        Assert.Equal(Fabric, created.GetProperty("fabric").GetString());
        return (nodeId, platform.Client(created.GetProperty("agentKey").GetString()));
    }

    [Fact]
    public async Task The_lease_usage_invoice_and_explanation_agree_node_by_node()
    {
        var (_, tenant) = await api.TenantAsync("trainer");
        var nodes = new List<(string NodeId, HttpClient Agent)>();
        for (var i = 0; i < 5; i++)
        {
            nodes.Add(await NodeAsync(i < 4 ? "rack-a" : "rack-b"));
        }

        async Task BeatAsync(IEnumerable<(string NodeId, HttpClient Agent)> which, string? failing = null)
        {
            foreach (var (nodeId, agent) in which)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, failedGpu: nodeId == failing ? 3 : null)).StatusCode);
            }
        }

        await BeatAsync(nodes);
        var t0 = api.Now;
        var placed = await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 32, pricing = "OnDemand", fabric = Fabric }), HttpStatusCode.Created);
        var leaseId = placed.GetProperty("leaseId").GetGuid();
        var placedNodes = placed.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("nodeId").GetString()!).ToList();
        Assert.Equal(nodes.Take(4).Select(n => n.NodeId).Order(), placedNodes.Order()); // one rack holds the whole lease
        var (lost, sick, spare) = (placedNodes[0], placedNodes[1], nodes[4].NodeId);

        // 24 heartbeats 15 s apart; the lost node's last is the 4th; the sick node reports GPU 3 failed in the 6th and 7th.
        for (var i = 1; i <= 24; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            await BeatAsync(nodes.Where(n => n.NodeId != lost || i <= 4), failing: i is 6 or 7 ? sick : null);
            if (i == 12)
            {
                // 120 s after its last heartbeat, past timeout + grace: the maintenance job finds it lost and the spare joins.
                await api.RunJobAsync("fleet-maintenance");
                await PlatformClient.EventuallyAsync(async () => (await LeaseAsync(tenant, leaseId)).GetProperty("nodes").GetArrayLength(), 5);
            }
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        api.Advance(TimeSpan.FromSeconds(15));
        await BeatAsync(nodes.Where(n => n.NodeId != lost));

        // Lost: 8 GPUs × 60 s. Kept: 8 × 360 each, less 3 intervals of GPU 3 on the sick node. Spare: from its first heartbeat after joining (t0 + 195 s) to the end.
        var expected = new Dictionary<string, decimal> { [lost] = 480m, [spare] = 8 * 165m };
        foreach (var kept in placedNodes.Skip(1))
        {
            expected[kept] = kept == sick ? 2880m - 45m : 2880m;
        }

        var total = expected.Values.Sum();
        var hour = new DateTimeOffset(t0.UtcTicks - t0.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(tenant, hour, hour.AddHours(1)), total);
        var lease = await LeaseAsync(tenant, leaseId);
        Assert.True(lease.GetProperty("settled").GetBoolean());
        Assert.Equal(total, lease.GetProperty("gpuSeconds").GetDecimal());
        var parts = lease.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("nodeId").GetString()!);
        Assert.Equal(expected, parts.ToDictionary(p => p.Key, p => p.Value.GetProperty("gpuSeconds").GetDecimal()));
        Assert.Equal(("Failed", t0.AddSeconds(60)), (parts[lost].GetProperty("state").GetString(), parts[lost].GetProperty("leftAt").GetDateTimeOffset()));
        Assert.Equal(t0.AddSeconds(180), parts[spare].GetProperty("joinedAt").GetDateTimeOffset());
        Assert.Equal(t0.AddSeconds(195), parts[spare].GetProperty("accruesFrom").GetDateTimeOffset());

        var byNode = await PlatformClient.ReadAsync(await tenant.GetAsync(
            $"/v1/usage?from={PlatformClient.Rfc3339(hour)}&to={PlatformClient.Rfc3339(hour.AddHours(1))}&granularity=hour&groupBy=node&leaseId={leaseId}"), HttpStatusCode.OK);
        Assert.Equal(expected, byNode.GetProperty("buckets").EnumerateArray()
            .GroupBy(b => b.GetProperty("key").GetString()!).ToDictionary(g => g.Key, g => g.Sum(b => b.GetProperty("gpuSeconds").GetDecimal())));

        // Telemetry and energy count every node over the time its GPUs accrued: every heartbeat reads 650 W per GPU.
        static decimal Wh(decimal gpuSeconds) => decimal.Round(gpuSeconds * 650 / 3600, 3, MidpointRounding.AwayFromZero);
        var telemetry = parts.ToDictionary(p => p.Key, p => p.Value.GetProperty("telemetry"));
        Assert.Equal(expected, telemetry.ToDictionary(t => t.Key, t => t.Value.GetProperty("healthyGpuSeconds").GetDecimal()));
        Assert.Equal(expected.ToDictionary(e => e.Key, e => Wh(e.Value)), telemetry.ToDictionary(t => t.Key, t => t.Value.GetProperty("energyWh").GetDecimal()));
        Assert.Equal((total, Wh(total)), (lease.GetProperty("telemetry").GetProperty("healthyGpuSeconds").GetDecimal(), lease.GetProperty("telemetry").GetProperty("energyWh").GetDecimal()));
        var energyQuery = $"/v1/usage?from={PlatformClient.Rfc3339(hour)}&to={PlatformClient.Rfc3339(hour.AddHours(1))}&granularity=hour&groupBy=node&leaseId={leaseId}&metric=energy";
        await PlatformClient.EventuallyAsync(async () => (await PlatformClient.ReadAsync(await tenant.GetAsync(energyQuery), HttpStatusCode.OK)).GetProperty("totalEnergyWh").GetDecimal(), Wh(total));
        var energy = await PlatformClient.ReadAsync(await tenant.GetAsync(energyQuery), HttpStatusCode.OK);
        Assert.Equal(expected.Keys.Order(), energy.GetProperty("buckets").EnumerateArray()
            .Where(b => b.GetProperty("energyWh").GetDecimal() > 0).Select(b => b.GetProperty("key").GetString()!).Distinct().Order());

        await api.RunJobAsync("invoicing-draft");
        var invoice = await PlatformClient.InvoiceAsync(tenant, t0.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture));
        var line = Assert.Single(invoice.GetProperty("lines").EnumerateArray());
        Assert.Equal((total, 45m), (line.GetProperty("gpuSeconds").GetDecimal(), line.GetProperty("healthCreditGpuSeconds").GetDecimal()));
        var read = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/invoices/{invoice.GetProperty("invoiceId").GetGuid()}"), HttpStatusCode.OK);
        Assert.Equal(Wh(total), Assert.Single(read.GetProperty("lines").EnumerateArray()).GetProperty("energyWh").GetDecimal());
        var explained = await PlatformClient.ReadAsync(
            await tenant.GetAsync($"/v1/invoices/{invoice.GetProperty("invoiceId").GetGuid()}/lines/1/explain"), HttpStatusCode.OK);
        Assert.True(explained.GetProperty("sumsToLine").GetBoolean());
        var windows = explained.GetProperty("pieces").EnumerateArray().SelectMany(p => p.GetProperty("windows").EnumerateArray()).ToList();
        Assert.Equal(expected, windows.GroupBy(w => w.GetProperty("nodeId").GetString()!)
            .ToDictionary(g => g.Key, g => g.Sum(w => w.GetProperty("gpuSeconds").GetDecimal())));
        Assert.Equal(45m, windows.Sum(w => w.GetProperty("unbilledGpuSeconds").GetDecimal()));

        // The lease's stream tells the lost node's story, and a replay of those facts adds nothing.
        var story = $"left: {lost} at {t0.AddSeconds(60):O} (Failed); replaced: {lost} at {t0.AddSeconds(60):O} by {spare} at {t0.AddSeconds(180):O}";
        await PlatformClient.EventuallyAsync(() => NodeStoryAsync(leaseId), story);
        var replay = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/ops/replay", new
        {
            consumer = "lease-lifecycle",
            eventTypes = new[] { "lease_node_left", "lease_node_replaced" },
            from = DateTimeOffset.UtcNow.AddMinutes(-10),
        }), HttpStatusCode.Accepted);
        Assert.True(replay.GetProperty("total").GetInt64() >= 2);
        await PlatformClient.EventuallyAsync(
            async () => (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/replay/{replay.GetProperty("replayId").GetGuid()}"), HttpStatusCode.OK)).GetProperty("done").GetBoolean(), true);
        await PlatformClient.EventuallyAsync(platform.BrokerIdleAsync, true);
        Assert.Equal(story, await NodeStoryAsync(leaseId));
    }

    /// <summary>The node facts of a lease's stream, in order, as one line.</summary>
    private async Task<string> NodeStoryAsync(Guid leaseId)
    {
        var stream = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/streams/{leaseId}"), HttpStatusCode.OK);
        return string.Join("; ", stream.EnumerateArray().Select(e => (Type: e.GetProperty("type").GetString(), Data: e.GetProperty("data"))).Select(e => e.Type switch
        {
            "lease_node_left" => $"left: {e.Data.GetProperty("nodeId")} at {e.Data.GetProperty("leftAt").GetDateTimeOffset():O} ({e.Data.GetProperty("state")})",
            "lease_node_replaced" => $"replaced: {e.Data.GetProperty("failedNodeId")} at {e.Data.GetProperty("failedAt").GetDateTimeOffset():O} "
                + $"by {e.Data.GetProperty("node").GetProperty("nodeId")} at {e.Data.GetProperty("joinedAt").GetDateTimeOffset():O}",
            _ => null,
        }).OfType<string>());
    }

    private static async Task<JsonElement> LeaseAsync(HttpClient tenant, Guid leaseId) =>
        await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
}
