using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.ServiceDefaults;
using Billing.Tests.Focus;

namespace Billing.IntegrationTests.GpuTelemetry;

public sealed class Measuring_gpu_telemetry(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Minute_rollups_hold_each_gpus_means_maxima_and_xid_reports()
    {
        var node = await TelemetryAgent.StartAsync(api, gpuCount: 2);
        var minute = api.Now;
        foreach (var (utilization, power, failed) in new[] { (10.0, 100.0, (int?)null), (20.0, 300.0, 1), (60.0, 200.0, null), (30.0, 400.0, null) })
        {
            await node.BeatAsync(2, gpu => (utilization + gpu, power + gpu), failed, temperature: 50 + power / 10, xid: 79);
            api.Advance(TimeSpan.FromSeconds(15));
        }

        await node.BeatAsync(2, _ => (0, 0));
        var rows = await MinutesAsync(node.NodeId, minute, minute.AddMinutes(2));

        Assert.Equal(4, rows.Count);
        var first = rows[0];
        Assert.Equal(minute, first.GetProperty("minute").GetDateTimeOffset());
        Assert.Equal((0, 4), (first.GetProperty("gpu").GetInt32(), first.GetProperty("samples").GetInt32()));
        Assert.Equal(30, first.GetProperty("meanUtilizationPct").GetDouble());
        Assert.Equal(250, first.GetProperty("meanPowerW").GetDouble());
        Assert.Equal(400, first.GetProperty("maxPowerW").GetDouble());
        Assert.Equal(90, first.GetProperty("maxTemperatureC").GetDouble());
        Assert.Equal(1000, first.GetProperty("maxMemoryUsedMiB").GetDouble());
        Assert.Equal(0, first.GetProperty("xidReports").GetInt32());
        Assert.Equal(1, rows[1].GetProperty("xidReports").GetInt32());
        Assert.Equal(31, rows[1].GetProperty("meanUtilizationPct").GetDouble());
        Assert.Equal(1, rows[2].GetProperty("samples").GetInt32());
    }

    [Fact]
    public async Task A_lease_shows_the_energy_and_utilization_of_the_seconds_it_was_billed_for()
    {
        var node = await TelemetryAgent.StartAsync(api, gpuCount: 2);
        var (_, tenant) = await api.TenantAsync("energy");
        await node.BeatAsync(2, _ => (80, 400));
        var lease = await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/leases", new { sku = TelemetryAgent.Sku, gpuCount = 2, pricing = "OnDemand" }), HttpStatusCode.Created);
        var leaseId = lease.GetProperty("leaseId").GetGuid();

        // 40 heartbeats 15 s apart at 400 W and 80 %; GPU 1 fails in two of them (three intervals lost).
        for (var i = 1; i <= 40; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            await node.BeatAsync(2, _ => (80, 400), failed: i is 10 or 11 ? 1 : null);
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        api.Advance(TimeSpan.FromSeconds(15));
        await node.BeatAsync(2, _ => (0, 100));   // after the end: counts for nothing
        var view = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
        var telemetry = view.GetProperty("telemetry");

        var gpuSeconds = view.GetProperty("gpuSeconds").GetDecimal();
        Assert.True(view.GetProperty("settled").GetBoolean());
        Assert.Equal(2 * 600 - 3 * 15, gpuSeconds);
        Assert.Equal(gpuSeconds, telemetry.GetProperty("healthyGpuSeconds").GetDecimal());
        Assert.Equal(decimal.Round(gpuSeconds * 400 / 3600, 3, MidpointRounding.AwayFromZero), telemetry.GetProperty("energyWh").GetDecimal());
        Assert.Equal(80, telemetry.GetProperty("meanUtilizationPct").GetDouble());
    }

    [Fact]
    public async Task Usage_with_metric_energy_gives_each_buckets_energy_and_utilization_in_json_and_csv()
    {
        var node = await TelemetryAgent.StartAsync(api, gpuCount: 2);
        var (_, tenant) = await api.TenantAsync("usage-energy");
        var start = api.Now;
        await node.BeatAsync(2, gpu => (50 + 20 * gpu, 300 - 200 * gpu));
        var leaseId = (await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/leases", new { sku = TelemetryAgent.Sku, gpuCount = 2, pricing = "OnDemand" }), HttpStatusCode.Created))
            .GetProperty("leaseId").GetGuid();

        // Three minutes, GPU 0 at 300 W and 50 %, GPU 1 at 100 W and 70 %; GPU 1 fails once in the second minute (30 s lost).
        for (var i = 1; i <= 12; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            await node.BeatAsync(2, gpu => (50 + 20 * gpu, 300 - 200 * gpu), failed: i == 6 ? 1 : null);
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        api.Advance(TimeSpan.FromSeconds(15));
        await node.BeatAsync(2, _ => (0, 0));
        var query = $"/v1/usage?from={PlatformClient.Rfc3339(start)}&to={PlatformClient.Rfc3339(start.AddMinutes(3))}&granularity=minute&groupBy=lease";
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(tenant, start, start.AddMinutes(3)), 2 * 180m - 30);

        var report = await PlatformClient.ReadAsync(await tenant.GetAsync(query + "&metric=energy"), HttpStatusCode.OK);

        var buckets = report.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(3, buckets.Count);
        Assert.All(buckets, b => Assert.Equal(leaseId.ToString(), b.GetProperty("key").GetString()));
        var fullMinute = decimal.Round(60 * 400m / 3600, 3, MidpointRounding.AwayFromZero);
        var lossyMinute = decimal.Round((60 * 300m + 30 * 100m) / 3600, 3, MidpointRounding.AwayFromZero);
        Assert.Equal([fullMinute, lossyMinute, fullMinute], buckets.Select(b => b.GetProperty("energyWh").GetDecimal()));
        Assert.Equal([60, Math.Round((60 * 50 + 30 * 70) / 90.0, 3), 60], buckets.Select(b => b.GetProperty("meanUtilizationPct").GetDouble()));
        Assert.Equal(decimal.Round((180 * 300m + 150 * 100m) / 3600, 3, MidpointRounding.AwayFromZero), report.GetProperty("totalEnergyWh").GetDecimal());
        var plain = await PlatformClient.ReadAsync(await tenant.GetAsync(query), HttpStatusCode.OK);
        Assert.False(plain.GetProperty("buckets")[0].TryGetProperty("energyWh", out _));
        Assert.False(plain.TryGetProperty("totalEnergyWh", out _));
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, query + "&metric=energy");
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        var csv = (await (await tenant.SendAsync(csvRequest)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("start,key,gpuSeconds,energyWh,meanUtilizationPct", csv[0]);
        Assert.Contains(leaseId.ToString(), csv[2]);
        Assert.EndsWith(FormattableString.Invariant($",{lossyMinute},56.667"), csv[2]);
        await PlatformClient.ReadAsync(await tenant.GetAsync(query + "&metric=watts"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Invoice_lines_and_focus_rows_show_the_leases_energy_and_utilization()
    {
        var node = await TelemetryAgent.StartAsync(api, gpuCount: 2);
        var (_, tenant) = await api.TenantAsync("invoice-energy");
        var start = api.Now;
        await node.BeatAsync(2, gpu => (50 + 20 * gpu, 300 - 200 * gpu));
        var leaseId = (await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/leases", new { sku = TelemetryAgent.Sku, gpuCount = 2, pricing = "OnDemand" }), HttpStatusCode.Created))
            .GetProperty("leaseId").GetGuid();

        // Two minutes, GPU 0 at 300 W and 50 %, GPU 1 at 100 W and 70 %: 240 GPU-seconds, 400 W × 120 s, 60 %.
        for (var i = 1; i <= 8; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            await node.BeatAsync(2, gpu => (50 + 20 * gpu, 300 - 200 * gpu));
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        api.Advance(TimeSpan.FromSeconds(15));
        await node.BeatAsync(2, _ => (0, 0));
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(tenant, start, start.AddMinutes(2)), 240m);
        await api.RunJobAsync("invoicing-draft");
        var period = BillingPeriod.Of(start);
        var invoiceId = (await PlatformClient.InvoiceAsync(tenant, period)).GetProperty("invoiceId").GetGuid();

        var invoice = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/invoices/{invoiceId}"), HttpStatusCode.OK);
        var focus = FocusConformance.Read(await (await api.Ops.GetAsync($"/v1/exports/focus?period={period}")).Content.ReadAsStringAsync(), out _);

        var expected = decimal.Round(120 * 400m / 3600, 3, MidpointRounding.AwayFromZero);
        var line = Assert.Single(invoice.GetProperty("lines").EnumerateArray());
        Assert.Equal((240m, expected, 60.0), (line.GetProperty("gpuSeconds").GetDecimal(), line.GetProperty("energyWh").GetDecimal(), line.GetProperty("meanUtilizationPct").GetDouble()));
        var row = Assert.Single(focus, r => r["ResourceId"] == leaseId.ToString());
        Assert.Equal((expected.ToString(CultureInfo.InvariantCulture), "60"), (row["x_EnergyWh"], row["x_MeanUtilizationPct"]));
    }

    [Fact]
    public async Task Ops_list_the_leased_gpus_that_sat_idle_for_an_hour()
    {
        var node = await TelemetryAgent.StartAsync(api, gpuCount: 2);
        var since = api.Now;
        var (tenantId, tenant) = await api.TenantAsync("idle");
        await node.BeatAsync(2, _ => (90, 300));
        var leaseId = (await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/leases", new { sku = TelemetryAgent.Sku, gpuCount = 2, pricing = "OnDemand" }), HttpStatusCode.Created))
            .GetProperty("leaseId").GetGuid();

        // GPU 0 idles at 2 % for 61 minutes; GPU 1 is busy but dips under 5 % for ten.
        var idleFrom = api.Now.AddSeconds(15);
        for (var i = 1; i <= 61 * 4; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            await node.BeatAsync(2, gpu => (gpu == 0 ? 2 : i is > 100 and <= 140 ? 1 : 90, 100));
        }

        var idle = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/idle-gpus?threshold=5&since={PlatformClient.Rfc3339(since)}"), HttpStatusCode.OK);
        var mine = idle.EnumerateArray().Where(g => g.GetProperty("leaseId").GetGuid() == leaseId).ToList();

        var gpu = Assert.Single(mine);
        Assert.Equal((0, tenantId, node.NodeId), (gpu.GetProperty("gpu").GetInt32(), gpu.GetProperty("tenantId").GetString(), gpu.GetProperty("nodeId").GetString()));
        Assert.Equal(idleFrom, gpu.GetProperty("idleFrom").GetDateTimeOffset());
        Assert.Equal(api.Now, gpu.GetProperty("idleUntil").GetDateTimeOffset());
        Assert.Equal(2, gpu.GetProperty("meanUtilizationPct").GetDouble());
        var stricter = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/idle-gpus?threshold=1&since={PlatformClient.Rfc3339(since)}"), HttpStatusCode.OK);
        Assert.DoesNotContain(stricter.EnumerateArray(), g => g.GetProperty("leaseId").GetGuid() == leaseId);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("/v1/ops/idle-gpus")).StatusCode);
    }

    [Fact]
    public async Task A_span_longer_than_a_day_or_an_unknown_node_is_refused()
    {
        var node = await TelemetryAgent.StartAsync(api, gpuCount: 1);
        var from = PlatformClient.Rfc3339(api.Now.AddDays(-2));

        await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/nodes/{node.NodeId}/telemetry?from={from}&to={PlatformClient.Rfc3339(api.Now)}"), HttpStatusCode.BadRequest);
        await PlatformClient.ReadAsync(await api.Ops.GetAsync("/v1/nodes/no-such-node/telemetry"), HttpStatusCode.NotFound);
    }

    private async Task<List<JsonElement>> MinutesAsync(string nodeId, DateTimeOffset from, DateTimeOffset to) =>
        (await PlatformClient.ReadAsync(
            await api.Ops.GetAsync($"/v1/nodes/{nodeId}/telemetry?from={PlatformClient.Rfc3339(from)}&to={PlatformClient.Rfc3339(to)}"), HttpStatusCode.OK))
        .EnumerateArray().ToList();
}
