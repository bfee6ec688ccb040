using System.Net;
using System.Net.Http.Json;
using Billing.IntegrationTests;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Billing.BrowserTests;

/// <summary>axe-core over every console page, as each role sees it with data on it: no serious or critical violation.</summary>
public sealed class Scanning_every_page_for_accessibility(ConsoleSite site) : IClassFixture<ConsoleSite>
{
    [Fact]
    public async Task Finds_no_serious_or_critical_violation_on_any_page()
    {
        var api = site.Api;
        var (_, tenant, _, start) = await api.RunLeaseAsync();
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        await api.RunJobAsync("invoicing-draft");
        var period = Billing.ServiceDefaults.BillingPeriod.Of(api.Now);
        var invoiceId = (await PlatformClient.InvoiceAsync(tenant, period)).GetProperty("invoiceId").GetGuid();
        var finance = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/keys", new { role = "finance", name = "books" }), HttpStatusCode.Created);
        var hour = new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);

        // Each role in a browser context of its own, all at once: a scan mostly waits on the browser.
        var scans = await Task.WhenAll(
            ScanAsync(site.NewPageAsync(), "/console/signin"),
            ScanAsync(site.SignInAsync(tenant.DefaultRequestHeaders.Authorization!.Parameter!, "/console/tenant"),
                "/console/tenant", $"/console/tenant/usage?from={PlatformClient.Rfc3339(hour)}&to={PlatformClient.Rfc3339(hour.AddHours(3))}&granularity=Hour",
                "/console/tenant/invoices", $"/console/invoices/{invoiceId}"),
            ScanAsync(site.SignInAsync(finance.GetProperty("key").GetString()!, "/console/finance"),
                "/console/finance/reconciliation", $"/console/finance?period={period}"),
            ScanAsync(site.SignInAsync(Platform.OpsKey, "/console/ops"), "/console/ops", "/console/ops/jobs"));
        await ConsoleSite.ScreenshotAsync(scans[2].Page, "console-finance", forReadme: true);

        var violations = scans.SelectMany(s => s.Violations).ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

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
            await ConsoleSite.ScreenshotAsync(page, "axe" + path.Split('?')[0].Replace('/', '-'));
        }

        return (page, violations);
    }
}
