using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Billing.IntegrationTests;

[Collection(PlatformCollection.Name)]
public sealed class Metering_through_the_public_api(Platform platform)
{
    private const string Sku = "H100-SXM-80GB";
    private readonly PlatformClient api = new(platform);

    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private async Task<decimal> UsageAsync(HttpClient tenant, DateTimeOffset from, string groupBy = "sku")
    {
        var hour = new DateTimeOffset(from.UtcTicks - from.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        var report = await PlatformClient.ReadAsync(
            await tenant.GetAsync($"/v1/usage?from={Rfc3339(hour)}&to={Rfc3339(hour.AddHours(3))}&granularity=hour&groupBy={groupBy}"), HttpStatusCode.OK);
        return report.GetProperty("totalGpuSeconds").GetDecimal();
    }

    /// <summary>
    /// 4 GPUs leased 10 minutes, heartbeats every 15 s with one of them failed for two heartbeats
    /// (three intervals lost): 4 × 600 − 3 × 15 = 2355 GPU-seconds.
    /// </summary>
    private async Task<(string TenantId, HttpClient Tenant, Guid LeaseId, DateTimeOffset Start)> RunLeaseAsync(Func<int, Task>? midway = null)
    {
        var (tenantId, tenant) = await api.TenantAsync();
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount: 4);
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 4)).StatusCode);
        var lease = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 4, pricing = "OnDemand" }), HttpStatusCode.Created);
        var leaseId = lease.GetProperty("leaseId").GetGuid();
        var start = lease.GetProperty("startedAt").GetDateTimeOffset();
        for (var i = 1; i <= 40; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            var response = await api.HeartbeatAsync(agent, nodeId, gpuCount: 4, failedGpu: i is 10 or 11 ? 2 : null);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            if (midway is not null)
            {
                await midway(i);
            }
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        api.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 4)).StatusCode);
        return (tenantId, tenant, leaseId, start);
    }

    [Fact]
    public async Task Heartbeats_become_exact_usage_and_a_draft_invoice()
    {
        var (tenantId, tenant, leaseId, start) = await RunLeaseAsync();

        var lease = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
        var usage = await PlatformClient.EventuallyAsync(() => UsageAsync(tenant, start), 2355m);
        await PlatformClient.ReadAsync(await api.Ops.PostAsync("/v1/ops/jobs/invoicing-draft/run", null), HttpStatusCode.OK);
        var invoices = await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/invoices"), HttpStatusCode.OK);

        Assert.True(lease.GetProperty("settled").GetBoolean());
        Assert.Equal(2355m, lease.GetProperty("gpuSeconds").GetDecimal());
        Assert.Equal(2355m, usage);
        var invoice = Assert.Single(invoices.EnumerateArray());
        Assert.Equal(tenantId, invoice.GetProperty("tenantId").GetString());
        var line = Assert.Single(invoice.GetProperty("lines").EnumerateArray());
        Assert.Equal(2355m, line.GetProperty("gpuSeconds").GetDecimal());
        Assert.Equal(1.63m, line.GetProperty("amount").GetDecimal()); // 2355 s × 2.49 / 3600 = 1.628875
        Assert.Equal(1.63m, invoice.GetProperty("total").GetDecimal());
    }

    [Fact]
    public async Task A_restart_of_the_whole_platform_mid_lease_loses_and_doubles_nothing()
    {
        var (_, tenant, leaseId, start) = await RunLeaseAsync(heartbeat => heartbeat == 23 ? platform.RestartAsync() : Task.CompletedTask);

        var usage = await PlatformClient.EventuallyAsync(() => UsageAsync(tenant, start), 2355m);
        var lease = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);

        Assert.Equal(2355m, usage);
        Assert.Equal(2355m, lease.GetProperty("gpuSeconds").GetDecimal());
    }

    [Fact]
    public async Task Usage_can_be_read_per_minute_as_csv()
    {
        var (_, tenant, _, start) = await RunLeaseAsync();
        await PlatformClient.EventuallyAsync(() => UsageAsync(tenant, start), 2355m);

        var minute = new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/usage?from={Rfc3339(minute)}&to={Rfc3339(minute.AddMinutes(15))}&granularity=minute");
        request.Headers.Accept.ParseAdd("text/csv");
        var csv = await (await tenant.SendAsync(request)).Content.ReadAsStringAsync();

        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.Split(',')).ToList();
        Assert.Equal("start,key,gpuSeconds", csv.Split('\n')[0].Trim());
        Assert.Equal(2355m, rows.Sum(r => decimal.Parse(r[2], CultureInfo.InvariantCulture)));
        Assert.All(rows, r => Assert.InRange(decimal.Parse(r[2], CultureInfo.InvariantCulture), 0.001m, 240m));
    }
}
