using System.Net;
using System.Net.Http.Json;
using Billing.IntegrationTests;
using Billing.IntegrationTests.Meters;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Billing.BrowserTests;

/// <summary>
/// axe-core over every console page, as each role sees it with data on it, on a phone-sized screen: no serious or
/// critical violation, and no page wider than the screen (tables scroll within themselves).
/// </summary>
public sealed class Scanning_every_page_for_accessibility(ConsoleSite site) : IClassFixture<ConsoleSite>
{
    [Fact]
    public async Task Finds_no_serious_or_critical_violation_on_any_page()
    {
        var api = site.Api;
        var (tenantId, tenant, leaseId, start) = await api.RunLeaseAsync();
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        await api.RunJobAsync("invoicing-draft");
        var period = Billing.ServiceDefaults.BillingPeriod.Of(api.Now);
        var invoiceId = (await PlatformClient.InvoiceAsync(tenant, period)).GetProperty("invoiceId").GetGuid();
        var finance = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/keys", new { role = "finance", name = "books" }), HttpStatusCode.Created);
        await api.RunJobAsync("fleet-spot-prices");
        api.Advance(TimeSpan.FromMinutes(5));
        await api.RunJobAsync("fleet-spot-prices");
        await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/ops/replay", new { consumer = "lease-lifecycle" }), HttpStatusCode.Accepted);
        var hour = new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        var tokens = Enumerable.Range(0, 4).Select(i => MeterEvents.Token(tenantId, $"t-{i}", start.AddMinutes(i), 1000, model: i % 2 == 0 ? "big-chat" : "small-chat"));
        Assert.Equal(HttpStatusCode.OK, (await MeterEvents.PostBatchAsync(await new MeterEvents(site.Platform, api).IngestKeyAsync(), tokens)).StatusCode);
        var meterRange = $"meter=llm-tokens&from={PlatformClient.Rfc3339(hour)}&to={PlatformClient.Rfc3339(hour.AddHours(3))}&granularity=Hour&groupBy=model";
        await PlatformClient.EventuallyAsync(async () => (await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/usage?{meterRange}"), HttpStatusCode.OK)).GetProperty("total").GetDecimal(), 4000m);

        // Each role in a browser context of its own, all at once: a scan mostly waits on the browser.
        var scans = await Task.WhenAll(
            ScanAsync(site.NewPageAsync(Narrow), "/console/signin"),
            ScanAsync(site.SignInAsync(tenant.DefaultRequestHeaders.Authorization!.Parameter!, "/console/tenant", Narrow),
                "/console/tenant", $"/console/tenant/usage?from={PlatformClient.Rfc3339(hour)}&to={PlatformClient.Rfc3339(hour.AddHours(3))}&granularity=Hour",
                $"/console/tenant/meters?{meterRange}", "/console/tenant/leases", $"/console/tenant/leases/{leaseId}", "/console/tenant/invoices", $"/console/invoices/{invoiceId}", $"/console/invoices/{invoiceId}/lines/1", "/console/prices"),
            ScanAsync(site.SignInAsync(finance.GetProperty("key").GetString()!, "/console/finance", Narrow),
                "/console/finance/reconciliation", $"/console/finance?period={period}"),
            ScanAsync(site.SignInAsync(Platform.OpsKey, "/console/ops", Narrow),
                "/console/ops", "/console/ops/spot", "/console/ops/jobs", $"/console/ops/streams?id={leaseId}", "/console/ops/replays"));

        var violations = scans.SelectMany(s => s.Violations).ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    /// <summary>A phone's screen, portrait.</summary>
    private static readonly ViewportSize Narrow = new() { Width = 390, Height = 844 };

    /// <summary>
    /// axe-core's rules (its default set: WCAG A and AA, and best practices) over each page, keeping the serious and
    /// critical violations. Legacy mode runs axe once inside the page; the default mode also opens a blank page per
    /// scan to merge frame results, which took 4 to 8 s a page on two shared cores against 1 s, and these pages have
    /// no frames to merge.
    /// </summary>
    private static async Task<(IPage Page, List<string> Violations)> ScanAsync(Task<IPage> opening, params string[] paths)
    {
        var page = await opening;
        var violations = new List<string>();
        var options = new AxeRunOptions { ResultTypes = [ResultType.Violations] };
        foreach (var path in paths)
        {
            Assert.Equal(200, (await page.GotoAsync(path))!.Status);
#pragma warning disable CS0618 // Legacy mode is marked for removal; see the summary for why it is used here.
            var result = await page.RunAxeLegacy(null, options);
#pragma warning restore CS0618
            violations.AddRange(result.Violations.Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{path}: {v.Id} ({v.Impact}) {v.Help} at {string.Join("; ", v.Nodes.Select(n => n.Html))}"));
            if (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth"))
            {
                violations.Add($"{path}: wider than a {Narrow.Width} px screen.");
            }

            await ConsoleSite.ScreenshotAsync(page, "axe" + path.Split('?')[0].Replace('/', '-'));
        }

        return (page, violations);
    }
}
