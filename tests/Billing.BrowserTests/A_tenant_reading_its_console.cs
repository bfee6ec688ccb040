using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.Consoles.Components.Shared;
using Billing.IntegrationTests;
using Billing.IntegrationTests.Meters;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults;
using Microsoft.Playwright;

namespace Billing.BrowserTests;

/// <summary>A tenant in the browser: the same figures as the API, its invoice as a PDF, and nothing of anyone else's.</summary>
public sealed class A_tenant_reading_its_console(ConsoleSite site) : IClassFixture<ConsoleSite>
{
    [Fact]
    public async Task Shows_the_apis_usage_total_and_month_to_date_cost_and_downloads_the_invoice_pdf()
    {
        var api = site.Api;
        var (tenantId, tenant, _, start) = await api.RunLeaseAsync();
        // By lease, as the page below reads it: that report follows the async hourly projection, a moment behind the SKU one.
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start, "lease"), 2355m);
        await api.RunJobAsync("invoicing-draft");
        var invoice = await PlatformClient.InvoiceAsync(tenant, Billing.ServiceDefaults.BillingPeriod.Of(api.Now));
        var hour = new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        var (from, to) = (PlatformClient.Rfc3339(hour), PlatformClient.Rfc3339(hour.AddHours(3)));
        var apiTotal = (await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/usage?from={from}&to={to}&granularity=hour&groupBy=lease"), HttpStatusCode.OK))
            .GetProperty("totalGpuSeconds").GetDecimal();

        var page = await site.SignInAsync(KeyOf(tenant), "/console/tenant");
        Assert.Equal(Show.Money(invoice.GetProperty("total").GetDecimal(), invoice.GetProperty("currency").GetString()!), await page.GetByTestId("month-to-date").InnerTextAsync());
        await ConsoleSite.ScreenshotAsync(page, "console-tenant", forReadme: true);

        await page.GotoAsync($"/console/tenant/usage?from={from}&to={to}&granularity=Hour&groupBy=Lease");
        Assert.Equal(apiTotal, decimal.Parse(await page.GetByTestId("usage-total").InnerTextAsync(), NumberStyles.Number, CultureInfo.InvariantCulture));
        Assert.True(await page.Locator("svg.mud-chart-bar path").CountAsync() > 0, "The usage chart drew no bar.");
        await ConsoleSite.ScreenshotAsync(page, "tenant-usage");

        await page.GotoAsync("/console/tenant");
        await page.GetByRole(AriaRole.Link, new() { Name = "See its lines" }).ClickAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download PDF" }).ClickAsync());
        await using var pdf = await download.CreateReadStreamAsync();
        var head = new byte[5];
        await pdf.ReadExactlyAsync(head);
        Assert.Equal("%PDF-"u8.ToArray(), head);
        await ConsoleSite.ScreenshotAsync(page, "tenant-invoice");

        // A line's explanation: the pieces the API's explanation lists, adding up to the line.
        var invoiceId = invoice.GetProperty("invoiceId").GetGuid();
        var explained = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/invoices/{invoiceId}/lines/1/explain"), HttpStatusCode.OK);
        await page.GetByRole(AriaRole.Link, new() { Name = "Explain line 1" }).ClickAsync();
        await page.WaitForURLAsync($"**/console/invoices/{invoiceId}/lines/1");
        Assert.Equal(explained.GetProperty("gpuSeconds").GetDecimal(), decimal.Parse(await page.GetByTestId("pieces-gpu-seconds").InnerTextAsync(), NumberStyles.Number, CultureInfo.InvariantCulture));
        Assert.Equal("the line is their sum.", await page.GetByTestId("sums-to-line").InnerTextAsync());
        await ConsoleSite.ScreenshotAsync(page, "tenant-line-explanation");

        // Token usage by model: the figures and the CSV of GET /v1/usage?meter=llm-tokens&groupBy=model.
        var ingest = await new MeterEvents(site.Platform, api).IngestKeyAsync();
        var tokenHour = TimeBuckets.StartOfHour(api.Now);
        var events = Enumerable.Range(0, 12).Select(i => MeterEvents.Token(
            tenantId, $"t-{i}", tokenHour.AddMinutes(-1 - (i * 7)), 1000 + i, model: i % 3 == 0 ? "big-chat" : "small-chat", tokenType: i % 2 == 0 ? "input" : "output"));
        Assert.Equal(HttpStatusCode.OK, (await MeterEvents.PostBatchAsync(ingest, events)).StatusCode);
        var meterQuery = $"meter=llm-tokens&from={PlatformClient.Rfc3339(tokenHour.AddHours(-2))}&to={PlatformClient.Rfc3339(tokenHour.AddHours(1))}&granularity=hour&groupBy=model";
        await PlatformClient.EventuallyAsync(async () => (await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/usage?{meterQuery}"), HttpStatusCode.OK)).GetProperty("total").GetDecimal(),
            Enumerable.Range(0, 12).Sum(i => 1000m + i));
        var byModel = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/usage?{meterQuery}"), HttpStatusCode.OK);
        var apiCsv = await (await tenant.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/usage?{meterQuery}") { Headers = { { "Accept", "text/csv" } } })).Content.ReadAsStringAsync();
        await page.GotoAsync($"/console/tenant/meters?{meterQuery}");
        Assert.Equal(byModel.GetProperty("total").GetDecimal(), decimal.Parse(await page.GetByTestId("meter-total").InnerTextAsync(), NumberStyles.Number, CultureInfo.InvariantCulture));
        Assert.Equal(
            byModel.GetProperty("buckets").EnumerateArray().Select(b => $"{Show.Utc(b.GetProperty("start").GetDateTimeOffset())}\t{b.GetProperty("key").GetString()}\t{Show.Number(b.GetProperty("quantity").GetDecimal())}"),
            await page.GetByTestId("meter-buckets").Locator("tbody tr").AllInnerTextsAsync());
        Assert.True(await page.Locator("svg.mud-chart-bar path").CountAsync() > 0, "The model usage chart drew no bar.");
        var csv = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download CSV" }).ClickAsync());
        Assert.Equal(apiCsv, await File.ReadAllTextAsync((await csv.PathAsync())!));
        await ConsoleSite.ScreenshotAsync(page, "tenant-model-usage");
        Assert.Equal(400, (await page.GotoAsync($"/console/tenant/meters?{meterQuery.Replace("groupBy=model", "groupBy=colour", StringComparison.Ordinal)}"))!.Status);
        Assert.Equal("'groupBy' must be one of model, tokenType.", await page.GetByRole(AriaRole.Alert).InnerTextAsync());

        // Prices: the book and each SKU's spot history, as GET /v1/prices answers.
        await api.RunJobAsync("fleet-spot-prices");
        api.Advance(TimeSpan.FromMinutes(5));
        await api.RunJobAsync("fleet-spot-prices");
        var prices = await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/prices"), HttpStatusCode.OK);
        var h100 = prices.GetProperty("skus").EnumerateArray().Single(s => s.GetProperty("sku").GetString() == "H100-SXM-80GB");
        await page.GotoAsync("/console/prices");
        Assert.Equal(Show.Money(h100.GetProperty("spot").GetDecimal(), prices.GetProperty("currency").GetString()!), await page.GetByTestId("spot-H100-SXM-80GB").InnerTextAsync());
        Assert.True(await page.GetByTestId("spot-history-H100-SXM-80GB").Locator("svg").CountAsync() > 0, "No spot history chart.");
        await ConsoleSite.ScreenshotAsync(page, "tenant-prices");
    }

    [Fact]
    public async Task Starts_and_ends_a_lease_after_confirming_and_shows_the_apis_problem_when_refused()
    {
        var api = site.Api;
        var (_, tenant) = await api.TenantAsync("initech");
        var (nodeId, agent) = await api.NodeAsync(Platform.SpotSku, gpuCount: 4);
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 4)).StatusCode);
        var page = await site.SignInAsync(KeyOf(tenant), "/console/tenant");
        await page.GotoAsync("/console/tenant/leases");

        // With the keyboard: the form submits with Enter, and nothing starts before the confirmation.
        await page.GetByLabel("SKU").SelectOptionAsync(Platform.SpotSku);
        await page.GetByLabel("GPUs").FillAsync("4");
        await page.GetByLabel("GPUs").PressAsync("Enter");
        Assert.Equal($"Start a lease of 4 × {Platform.SpotSku} GPUs, priced OnDemand? Billing starts when the GPUs are yours.", await page.GetByTestId("lease-confirm").InnerTextAsync());
        Assert.Empty((await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/leases"), HttpStatusCode.OK)).EnumerateArray());
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm: start the lease" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.GetByTestId("lease-done").WaitForAsync();
        var lease = Assert.Single((await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/leases"), HttpStatusCode.OK)).EnumerateArray());
        var leaseId = lease.GetProperty("leaseId").GetGuid();
        Assert.Equal(nodeId, lease.GetProperty("nodeId").GetString());
        await ConsoleSite.ScreenshotAsync(page, "tenant-lease-started");

        // Refused as the API refuses: every GPU is taken (409), and more GPUs than the node has (400).
        var body = new { sku = Platform.SpotSku, gpuCount = 4, pricing = "OnDemand" };
        var full = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", body), HttpStatusCode.Conflict);
        await page.GetByLabel("SKU").SelectOptionAsync(Platform.SpotSku);
        await page.GetByLabel("GPUs").FillAsync("4");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review the lease" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm: start the lease" }).ClickAsync();
        Assert.Contains(full.GetProperty("detail").GetString()!, await page.GetByTestId("problem").InnerTextAsync(), StringComparison.Ordinal);
        var tooMany = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", body with { gpuCount = 9 }), HttpStatusCode.BadRequest);
        await page.GetByLabel("GPUs").FillAsync("9");
        await page.GetByRole(AriaRole.Button, new() { Name = "Review the lease" }).ClickAsync();
        var shown = await page.GetByTestId("problem").InnerTextAsync();
        Assert.Contains(tooMany.GetProperty("detail").GetString()!, shown, StringComparison.Ordinal);
        Assert.Contains(tooMany.GetProperty("errors").GetProperty("gpuCount")[0].GetString()!, shown, StringComparison.Ordinal);
        await ConsoleSite.ScreenshotAsync(page, "tenant-lease-refused");

        await page.GetByRole(AriaRole.Button, new() { Name = $"End lease {leaseId}" }).ClickAsync();
        Assert.NotEqual("Ended", (await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK)).GetProperty("state").GetString());
        await page.GetByRole(AriaRole.Button, new() { Name = $"Confirm: end lease {leaseId}" }).ClickAsync();
        await page.GetByTestId("lease-done").WaitForAsync();
        Assert.Equal("Ended", (await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK)).GetProperty("state").GetString());

        // A cluster lease node by node, as GET /v1/leases/{id} answers: the node that left is highlighted, the lease degraded.
        var (clusterId, lost) = await DegradedClusterLeaseAsync(tenant);
        var clusterLease = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{clusterId}"), HttpStatusCode.OK);
        await page.GotoAsync("/console/tenant/leases");
        await page.GetByRole(AriaRole.Link, new() { Name = $"Lease {clusterId}, node by node" }).ClickAsync();
        await page.WaitForURLAsync($"**/console/tenant/leases/{clusterId}");
        Assert.StartsWith("yes: 1 of 2 nodes", await page.GetByTestId("lease-degraded").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(
            clusterLease.GetProperty("nodes").EnumerateArray().Select(n => string.Join("\t",
                n.GetProperty("nodeId").GetString(), n.GetProperty("rack").GetString(), n.GetProperty("gpuIndices").GetArrayLength(), string.Join(", ", n.GetProperty("gpuIndices").EnumerateArray()),
                Show.Utc(n.GetProperty("joinedAt").GetDateTimeOffset()), Show.Utc(n.GetProperty("leftAt").ValueKind == JsonValueKind.Null ? null : n.GetProperty("leftAt").GetDateTimeOffset()),
                n.GetProperty("state").GetString(), Show.Number(n.GetProperty("gpuSeconds").GetDecimal()))),
            await page.GetByTestId("lease-nodes").Locator("tbody tr").AllInnerTextsAsync());
        Assert.Equal("difference", await page.GetByTestId($"lease-node-{lost}").GetAttributeAsync("class"));
        await ConsoleSite.ScreenshotAsync(page, "tenant-lease-nodes");
        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{clusterId}/end", null), HttpStatusCode.OK);
    }

    /// <summary>A lease of two 4-GPU nodes of one fabric: the first goes silent past the grace and, with no spare node, the lease runs degraded.</summary>
    private async Task<(Guid LeaseId, string LostNodeId)> DegradedClusterLeaseAsync(HttpClient tenant)
    {
        var api = site.Api;
        var cluster = new List<(string NodeId, HttpClient Agent)>();
        foreach (var rack in new[] { "rack-a", "rack-b" })
        {
            var nodeId = $"node-{Guid.NewGuid():N}"[..17];
            var created = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku = ClusterSku, gpuCount = 4, region = "test-1", fabric = "ib-test", rack }), HttpStatusCode.Created);
            cluster.Add((nodeId, site.Platform.Client(created.GetProperty("agentKey").GetString())));
            Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(cluster[^1].Agent, nodeId, gpuCount: 4)).StatusCode);
        }

        var clusterId = (await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = ClusterSku, gpuCount = 8, pricing = "OnDemand" }), HttpStatusCode.Created))
            .GetProperty("leaseId").GetGuid();
        for (var beat = 1; beat <= 9; beat++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            foreach (var (nodeId, agent) in beat == 1 ? cluster : cluster.Skip(1))
            {
                Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 4)).StatusCode);
            }
        }

        await api.RunJobAsync("fleet-maintenance");
        await PlatformClient.EventuallyAsync(async () => (await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{clusterId}"), HttpStatusCode.OK)).GetProperty("degraded").GetBoolean(), true);
        return (clusterId, cluster[0].NodeId);
    }

    /// <summary>A SKU no other test of the class leases: its nodes are the cluster's alone.</summary>
    private const string ClusterSku = "A100-SXM-80GB";

    [Fact]
    public async Task Cannot_open_another_tenants_invoice_or_lease_nor_any_finance_or_ops_page()
    {
        var api = site.Api;
        var (_, owner, ownerLease, _) = await api.RunLeaseAsync();
        await api.RunJobAsync("invoicing-draft");
        var invoiceId = (await PlatformClient.InvoiceAsync(owner, Billing.ServiceDefaults.BillingPeriod.Of(api.Now))).GetProperty("invoiceId").GetGuid();
        var (_, stranger) = await api.TenantAsync("globex");

        var own = await site.SignInAsync(KeyOf(owner), "/console/tenant");
        Assert.Equal(200, (await own.GotoAsync($"/console/invoices/{invoiceId}"))!.Status);
        Assert.Equal(200, (await own.GotoAsync($"/console/tenant/leases/{ownerLease}"))!.Status);
        var page = await site.SignInAsync(KeyOf(stranger), "/console/tenant");
        Assert.Equal(404, (await page.GotoAsync($"/console/invoices/{invoiceId}"))!.Status);
        Assert.Equal(404, (await page.GotoAsync($"/console/tenant/leases/{ownerLease}"))!.Status);
        Assert.Equal(404, (await page.GotoAsync($"/console/invoices/{invoiceId}.pdf"))!.Status);
        await ConsoleSite.ScreenshotAsync(page, "tenant-another-tenants-invoice");
        foreach (var staffPage in new[] { "/console/finance", "/console/finance/reconciliation", "/console/finance/focus.csv?period=2026-01", "/console/ops", "/console/ops/jobs" })
        {
            Assert.Equal(403, (await page.GotoAsync(staffPage))!.Status);
        }

        await page.GotoAsync("/console/tenant");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/console/signin");
        await page.GotoAsync("/console/tenant");
        Assert.EndsWith("/console/signin", page.Url, StringComparison.Ordinal);
    }

    private static string KeyOf(HttpClient client) => client.DefaultRequestHeaders.Authorization!.Parameter!;
}
