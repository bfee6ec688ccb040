using System.Net;
using System.Net.Http.Json;
using Billing.IntegrationTests;
using Microsoft.Playwright;

namespace Billing.BrowserTests;

/// <summary>Finance in the browser: a month that does not reconcile is highlighted with its cause, and reconciles once re-rated.</summary>
public sealed class Finance_reconciling_a_month(ConsoleSite site) : IClassFixture<ConsoleSite>
{
    [Fact]
    public async Task Sees_usage_that_arrived_after_the_draft_was_rated_highlighted_with_its_cause()
    {
        var api = site.Api;
        // The draft job rates the month halfway through the lease; the usage of the lease's later minutes is stored
        // after it, so the month is metered and rated in full but not yet invoiced in full.
        var (tenantId, tenant, _, start) = await api.RunLeaseAsync(async heartbeat =>
        {
            if (heartbeat == 20)
            {
                await api.RunJobAsync("invoicing-draft");
            }
        });
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        var period = Billing.ServiceDefaults.BillingPeriod.Of(api.Now);
        var report = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK);
        var row = report.GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("tenantId").GetString() == tenantId);
        Assert.False(row.GetProperty("equal").GetBoolean());
        Assert.True(row.GetProperty("invoicedGpuSeconds").GetDecimal() < row.GetProperty("ratedGpuSeconds").GetDecimal());
        var cause = Assert.Single(row.GetProperty("differences").EnumerateArray()).GetString()!;
        Assert.Contains("usage arrived since the draft was last rated", cause, StringComparison.Ordinal);

        var finance = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/keys", new { role = "finance", name = "books" }), HttpStatusCode.Created);
        var page = await site.SignInAsync(finance.GetProperty("key").GetString()!, "/console/finance");
        await page.GetByRole(AriaRole.Link, new() { Name = "Reconciliation" }).ClickAsync();
        var highlighted = page.GetByTestId($"reconciliation-{tenantId}");
        Assert.Equal("difference", await highlighted.GetAttributeAsync("class"));
        Assert.Equal(cause, await highlighted.Locator("td:nth-child(5)").InnerTextAsync());
        Assert.Equal("1 tenant(s) differ.", await page.GetByTestId("reconciliation-verdict").InnerTextAsync());
        await ConsoleSite.ScreenshotAsync(page, "console-finance", forReadme: true);

        // The next draft run rates what arrived: the month reconciles.
        await api.RunJobAsync("invoicing-draft");
        await page.ReloadAsync();
        Assert.Equal("Every tenant reconciles.", await page.GetByTestId("reconciliation-verdict").InnerTextAsync());
        Assert.Null(await highlighted.GetAttributeAsync("class"));
    }
}
