using System.Net;

namespace Billing.IntegrationTests.Telemetry;

public sealed class Scraping_the_metrics(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "H100-SXM-80GB";

    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task After_a_lease_the_business_metrics_count_what_happened()
    {
        // 43 heartbeats accepted (42 by the lease's node, one by a node with a failed GPU), then a duplicate and one out of order.
        var (_, tenant, _, start) = await api.RunLeaseAsync();
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount: 2);
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 2, failedGpu: 1)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 2, failedGpu: 1)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 2, at: api.Now.AddSeconds(-1))).StatusCode);
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        await api.RunJobAsync("invoicing-draft");
        await api.RunJobAsync("fleet-spot-prices");

        await PlatformClient.EventuallyAsync(async () => (await Scrape.ReadAsync(api.Ops)).Sum("billing_ledger_lag_seconds"), 0d);
        var metrics = await Scrape.ReadAsync(api.Ops);

        Assert.Equal(43, metrics.Sum("billing_fleet_heartbeats_accepted_total"));
        Assert.Equal(1, metrics.Sum("billing_fleet_heartbeats_refused_total", ("reason", "duplicate")));
        Assert.Equal(1, metrics.Sum("billing_fleet_heartbeats_refused_total", ("reason", "out_of_order")));
        var published = metrics.Sum("billing_fleet_usage_windows_published_total");
        Assert.InRange(published, 10, 12); // ten minutes of lease, split at minute boundaries
        Assert.Equal(published, metrics.Sum("billing_ledger_usage_windows_stored_total"));
        Assert.Equal(1, metrics.Sum("billing_invoicing_invoices_drafted_total"));
        Assert.Equal(1, metrics.Sum("billing_job_duration_seconds_count", ("billing_job_id", "invoicing-draft")));
        Assert.Equal(0, metrics.Sum("billing_fleet_leases", ("sku", Sku)));
        Assert.Equal(4 + 1, metrics.Sum("billing_fleet_gpus", ("sku", Sku), ("state", "free")));
        Assert.Equal(1, metrics.Sum("billing_fleet_gpus", ("sku", Sku), ("state", "unhealthy")));
        Assert.True(metrics.Has("billing_fleet_spot_price_per_hour"), metrics.Like("spot"));
        Assert.True(metrics.Has("billing_fleet_spot_idle_share"), metrics.Like("spot"));
        Assert.True(metrics.Has("dotnet_gc_collections_total"), metrics.Like("dotnet"));
        Assert.True(metrics.Has("dotnet_process_cpu_time_seconds_total"), metrics.Like("dotnet"));
    }

    [Fact]
    public async Task Only_ops_keys_may_scrape()
    {
        var (_, tenant) = await api.TenantAsync("scraper");

        Assert.Equal(HttpStatusCode.Unauthorized, (await platform.Client().GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.Ops.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
    }
}
