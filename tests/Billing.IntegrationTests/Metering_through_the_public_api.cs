using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Billing.IntegrationTests;

public sealed class Metering_through_the_public_api(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Heartbeats_become_exact_usage_and_a_draft_invoice()
    {
        var (tenantId, tenant, leaseId, start) = await api.RunLeaseAsync();

        var lease = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        await PlatformClient.ReadAsync(await api.Ops.PostAsync("/v1/ops/jobs/invoicing-draft/run", null), HttpStatusCode.OK);
        var invoices = await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/invoices"), HttpStatusCode.OK);

        Assert.True(lease.GetProperty("settled").GetBoolean());
        Assert.Equal(2355m, lease.GetProperty("gpuSeconds").GetDecimal());
        var invoice = Assert.Single(invoices.EnumerateArray());
        Assert.Equal(tenantId, invoice.GetProperty("tenantId").GetString());
        var line = Assert.Single(invoice.GetProperty("lines").EnumerateArray());
        Assert.Equal(2355m, line.GetProperty("gpuSeconds").GetDecimal());
        Assert.Equal(45m, line.GetProperty("healthCreditGpuSeconds").GetDecimal()); // GPU 2 failed for three intervals
        Assert.Equal(1.63m, line.GetProperty("amount").GetDecimal()); // 2355 s × 2.49 / 3600 = 1.628875
        Assert.Equal(1.63m, invoice.GetProperty("total").GetDecimal());
    }

    [Fact]
    public async Task A_restart_of_the_whole_platform_mid_lease_loses_and_doubles_nothing()
    {
        var (_, tenant, leaseId, start) = await api.RunLeaseAsync(heartbeat => heartbeat == 23 ? platform.RestartAsync() : Task.CompletedTask);

        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        var lease = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);

        Assert.Equal(2355m, lease.GetProperty("gpuSeconds").GetDecimal());
    }

    [Fact]
    public async Task Usage_can_be_read_per_minute_as_csv()
    {
        var (_, tenant, _, start) = await api.RunLeaseAsync();
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);

        var minute = new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/usage?from={PlatformClient.Rfc3339(minute)}&to={PlatformClient.Rfc3339(minute.AddMinutes(15))}&granularity=minute");
        request.Headers.Accept.ParseAdd("text/csv");
        var csv = await (await tenant.SendAsync(request)).Content.ReadAsStringAsync();

        var rows = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.Split(',')).ToList();
        Assert.Equal("start,key,gpuSeconds", csv.Split('\n')[0].Trim());
        Assert.Equal(2355m, rows.Sum(r => decimal.Parse(r[2], CultureInfo.InvariantCulture)));
        Assert.All(rows, r => Assert.InRange(decimal.Parse(r[2], CultureInfo.InvariantCulture), 0.001m, 240m));
    }
}
