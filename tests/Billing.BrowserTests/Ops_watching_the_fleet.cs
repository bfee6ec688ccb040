using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.Consoles.Components.Shared;
using Billing.IntegrationTests;
using Microsoft.Playwright;

namespace Billing.BrowserTests;

/// <summary>Ops in the browser: a node's health as its heartbeats report it, and a job run from the page.</summary>
public sealed class Ops_watching_the_fleet(ConsoleSite site) : IClassFixture<ConsoleSite>
{
    [Fact]
    public async Task Sees_a_node_turn_unhealthy_after_a_failed_heartbeat_and_runs_the_draft_job()
    {
        var api = site.Api;
        var page = await site.SignInAsync(Platform.OpsKey, "/console/ops");
        var healthSeen = new List<string>();
        var unhealthyGpus = "";
        IReadOnlyList<string> skuRow = [], fabricRows = [];
        List<JsonElement> fabrics = [];

        // RunLeaseAsync's node reports GPU 2 failed in its 10th and 11th heartbeats.
        var (_, tenant, _, _) = await api.RunLeaseAsync(async heartbeat =>
        {
            if (heartbeat is 9 or 10)
            {
                // The class's other test has a node too: this lease's is the one that just reported.
                var nodes = (await PlatformClient.ReadAsync(await api.Ops.GetAsync("/v1/nodes"), HttpStatusCode.OK)).EnumerateArray();
                var nodeId = nodes.MaxBy(n => n.GetProperty("lastHeartbeatAt").GetDateTimeOffset()).GetProperty("nodeId").GetString();
                await page.ReloadAsync();
                healthSeen.Add(await page.GetByTestId($"health-{nodeId}").InnerTextAsync());
                if (heartbeat == 10)
                {
                    unhealthyGpus = await page.GetByTestId($"unhealthy-{nodeId}").InnerTextAsync();
                    skuRow = await page.Locator("[data-testid^=sku-] td").AllInnerTextsAsync();
                    fabricRows = await page.GetByTestId("fabrics").Locator("tbody tr").AllInnerTextsAsync();
                    fabrics = (await PlatformClient.ReadAsync(await api.Ops.GetAsync("/v1/fabrics"), HttpStatusCode.OK)).EnumerateArray().ToList();
                    await ConsoleSite.ScreenshotAsync(page, "console-ops", forReadme: true);
                }
            }
        });
        Assert.Equal(["Healthy", "Degraded"], healthSeen);
        Assert.Equal("1", unhealthyGpus);

        // Per fabric, as GET /v1/fabrics answers ops at that moment (the failed GPU among the unhealthy), and per SKU their sum.
        Assert.Equal(fabrics.Select(f => string.Join("\t", f.GetProperty("sku").GetString(), f.GetProperty("fabric").GetString(),
                f.GetProperty("nodes").GetInt32(), f.GetProperty("nodesFree").GetInt32(), f.GetProperty("gpusFree").GetInt32(), f.GetProperty("gpusLeased").GetInt32(),
                f.GetProperty("gpusUnhealthy").GetInt32(), f.GetProperty("gpusDrained").GetInt32(), $"{f.GetProperty("largestLease").GetInt32()} GPUs")),
            fabricRows);
        Assert.Equal(
            new[] { "gpusFree", "gpusLeased", "gpusUnhealthy", "gpusDrained" }.Select(figure => fabrics.Sum(f => f.GetProperty(figure).GetInt32()).ToString(CultureInfo.InvariantCulture))
                .Append($"{fabrics.Max(f => f.GetProperty("largestLease").GetInt32())} GPUs"),
            skuRow.Skip(2));

        var period = Billing.ServiceDefaults.BillingPeriod.Of(api.Now);
        Assert.Empty(await PlatformClient.InvoicesAsync(tenant, period));
        await page.GotoAsync("/console/ops/jobs");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run invoicing-draft now" }).ClickAsync();
        Assert.StartsWith("Ran invoicing-draft at", await page.GetByTestId("job-ran").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Single(await PlatformClient.InvoicesAsync(tenant, period));
        await ConsoleSite.ScreenshotAsync(page, "ops-jobs");
    }

    [Fact]
    public async Task Reads_the_spot_market_and_a_leases_stream_and_replays_it_with_its_progress()
    {
        var api = site.Api;
        var (_, tenant) = await api.TenantAsync("hooli");
        var (nodeId, agent) = await api.NodeAsync("H100-SXM-80GB", gpuCount: 4);
        await api.HeartbeatAsync(agent, nodeId, gpuCount: 4);
        var lease = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = "H100-SXM-80GB", gpuCount = 2, pricing = "Spot" }), HttpStatusCode.Created);
        var leaseId = lease.GetProperty("leaseId").GetGuid();
        for (var tick = 0; tick < 3; tick++)
        {
            await api.RunJobAsync("fleet-spot-prices");
            api.Advance(TimeSpan.FromMinutes(5));
            await api.HeartbeatAsync(agent, nodeId, gpuCount: 4);
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        var page = await site.SignInAsync(Platform.OpsKey, "/console/ops");

        // The spot market: idle share and price at each tick, the latest price the one GET /v1/prices answers.
        var prices = await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/prices"), HttpStatusCode.OK);
        var spot = prices.GetProperty("skus").EnumerateArray().Single(s => s.GetProperty("sku").GetString() == "H100-SXM-80GB").GetProperty("spot").GetDecimal();
        await page.GotoAsync("/console/ops/spot");
        Assert.Equal(2, await page.GetByTestId("spot-chart-H100-SXM-80GB").Locator("svg").CountAsync());
        Assert.Equal(Show.Money(spot, prices.GetProperty("currency").GetString()!), await page.GetByTestId("price-H100-SXM-80GB").First.InnerTextAsync());
        await ConsoleSite.ScreenshotAsync(page, "ops-spot");

        // The lease's stream, as GET /v1/ops/streams/{id} answers it once the ledger has stored the lease's end.
        await PlatformClient.EventuallyAsync(async () =>
            (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/streams/{leaseId}"), HttpStatusCode.OK)).EnumerateArray().Any(e => e.GetProperty("type").GetString() == "lease_ended"), true);
        var stream = (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/streams/{leaseId}"), HttpStatusCode.OK)).EnumerateArray().ToList();
        await page.GotoAsync("/console/ops/streams");
        await page.GetByRole(AriaRole.Link, new() { Name = leaseId.ToString() }).ClickAsync();
        var rows = page.GetByTestId("stream-events").Locator("tbody tr");
        Assert.Equal(stream.Count, await rows.CountAsync());
        Assert.Equal(stream.Select(e => e.GetProperty("type").GetString()), await rows.Locator("td:nth-child(3)").AllInnerTextsAsync());
        await ConsoleSite.ScreenshotAsync(page, "ops-stream");

        // A replay of the lease lifecycle events: confirmed first, then its progress until done.
        await page.GotoAsync("/console/ops/replays");
        await page.GetByLabel("Consumer").SelectOptionAsync("lease-lifecycle");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review the replay" }).ClickAsync();
        Assert.StartsWith("Send ", await page.GetByTestId("replay-confirm").InnerTextAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm: start the replay" }).ClickAsync();
        var started = await page.GetByTestId("replay-started").InnerTextAsync();
        var replayId = Guid.Parse(started.Split(' ')[1]);
        var progress = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/replay/{replayId}"), HttpStatusCode.OK);
        Assert.True(progress.GetProperty("total").GetInt64() >= 2, "The replay found no lease event.");
        await PlatformClient.EventuallyAsync(async () =>
        {
            await page.GetByRole(AriaRole.Link, new() { Name = "Refresh" }).ClickAsync();
            return await page.GetByTestId($"replay-state-{replayId}").InnerTextAsync();
        }, "done");
        var total = (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/replay/{replayId}"), HttpStatusCode.OK)).GetProperty("total").GetInt64();
        Assert.Equal($"{total} of {total}", await page.GetByTestId($"replay-progress-{replayId}").InnerTextAsync());
        await ConsoleSite.ScreenshotAsync(page, "ops-replays");
    }
}
