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

        // RunLeaseAsync's node reports GPU 2 failed in its 10th and 11th heartbeats.
        var (_, tenant, _, _) = await api.RunLeaseAsync(async heartbeat =>
        {
            if (heartbeat is 9 or 10)
            {
                await page.ReloadAsync();
                healthSeen.Add(await page.Locator("[data-testid^=health-]").InnerTextAsync());
                if (heartbeat == 10)
                {
                    unhealthyGpus = await page.Locator("[data-testid^=sku-] td:nth-child(5)").InnerTextAsync();
                    await ConsoleSite.ScreenshotAsync(page, "console-ops", forReadme: true);
                }
            }
        });
        Assert.Equal(["Healthy", "Degraded"], healthSeen);
        Assert.Equal("1", unhealthyGpus);

        var period = Billing.ServiceDefaults.BillingPeriod.Of(api.Now);
        Assert.Empty(await PlatformClient.InvoicesAsync(tenant, period));
        await page.GotoAsync("/console/ops/jobs");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run invoicing-draft now" }).ClickAsync();
        Assert.StartsWith("Ran invoicing-draft at", await page.GetByTestId("job-ran").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Single(await PlatformClient.InvoicesAsync(tenant, period));
        await ConsoleSite.ScreenshotAsync(page, "ops-jobs");
    }
}
