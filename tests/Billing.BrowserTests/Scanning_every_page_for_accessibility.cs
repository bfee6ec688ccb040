using System.Net;
using System.Net.Http.Json;
using Billing.IntegrationTests;
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

        var violations = new List<string>();
        await ScanAsync(await site.NewPageAsync(), violations, "/console/signin");
        await ScanAsync(await site.SignInAsync(tenant.DefaultRequestHeaders.Authorization!.Parameter!, "/console/tenant"), violations,
            "/console/tenant", $"/console/tenant/usage?from={PlatformClient.Rfc3339(hour)}&to={PlatformClient.Rfc3339(hour.AddHours(3))}&granularity=Hour",
            "/console/tenant/invoices", $"/console/invoices/{invoiceId}");
        var books = await site.SignInAsync(finance.GetProperty("key").GetString()!, "/console/finance");
        await ScanAsync(books, violations, "/console/finance/reconciliation", $"/console/finance?period={period}");
        await ConsoleSite.ScreenshotAsync(books, "console-finance", forReadme: true);
        await ScanAsync(await site.SignInAsync(Platform.OpsKey, "/console/ops"), violations, "/console/ops", "/console/ops/jobs");

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    private static async Task ScanAsync(IPage page, List<string> violations, params string[] paths)
    {
        foreach (var path in paths)
        {
            Assert.Equal(200, (await page.GotoAsync(path))!.Status);
            var result = await page.RunAxe();
            violations.AddRange(result.Violations.Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{path}: {v.Id} ({v.Impact}) {v.Help} at {string.Join("; ", v.Nodes.Select(n => n.Html))}"));
            await ConsoleSite.ScreenshotAsync(page, "axe" + path.Split('?')[0].Replace('/', '-'));
        }
    }
}
