using System.Globalization;
using System.Net;
using Billing.Consoles.Components.Shared;
using Billing.IntegrationTests;
using Microsoft.Playwright;

namespace Billing.BrowserTests;

/// <summary>A tenant in the browser: the same figures as the API, its invoice as a PDF, and nothing of anyone else's.</summary>
public sealed class A_tenant_reading_its_console(ConsoleSite site) : IClassFixture<ConsoleSite>
{
    [Fact]
    public async Task Shows_the_apis_usage_total_and_month_to_date_cost_and_downloads_the_invoice_pdf()
    {
        var api = site.Api;
        var (_, tenant, _, start) = await api.RunLeaseAsync();
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
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
    }

    [Fact]
    public async Task Cannot_open_another_tenants_invoice_nor_any_finance_or_ops_page()
    {
        var api = site.Api;
        var (_, owner, _, _) = await api.RunLeaseAsync();
        await api.RunJobAsync("invoicing-draft");
        var invoiceId = (await PlatformClient.InvoiceAsync(owner, Billing.ServiceDefaults.BillingPeriod.Of(api.Now))).GetProperty("invoiceId").GetGuid();
        var (_, stranger) = await api.TenantAsync("globex");

        var own = await site.SignInAsync(KeyOf(owner), "/console/tenant");
        Assert.Equal(200, (await own.GotoAsync($"/console/invoices/{invoiceId}"))!.Status);
        var page = await site.SignInAsync(KeyOf(stranger), "/console/tenant");
        Assert.Equal(404, (await page.GotoAsync($"/console/invoices/{invoiceId}"))!.Status);
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
