using System.Globalization;
using System.Net;
using System.Net.Http.Json;

namespace Billing.IntegrationTests;

public sealed class Committing_to_reserved_capacity(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task A_commitment_is_billed_unused_and_bad_ones_change_nothing()
    {
        var (tenantId, tenant) = await api.TenantAsync("committed");
        var today = api.Now.UtcDateTime.Date;
        var yesterday = today.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        var invalid = await tenant.PostAsJsonAsync("/v1/commitments", new { sku = "NO-SUCH-SKU", gpuCount = 0, startsOn = yesterday, months = 0 });
        var made = await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/commitments", new { sku = "A100-SXM-80GB", gpuCount = 2, startsOn = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), months = 1 }),
            HttpStatusCode.Created);
        await PlatformClient.ReadAsync(await api.Ops.PostAsync("/v1/ops/jobs/invoicing-draft/run", null), HttpStatusCode.OK);
        var commitments = await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/commitments"), HttpStatusCode.OK);
        var invoices = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/invoices?tenantId={tenantId}"), HttpStatusCode.OK);

        var errors = (await PlatformClient.ReadAsync(invalid, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.All(["sku", "gpuCount", "startsOn", "months"], field => Assert.True(errors.TryGetProperty(field, out _), field));
        Assert.Single(commitments.EnumerateArray());
        var line = Assert.Single(Assert.Single(invoices.EnumerateArray()).GetProperty("lines").EnumerateArray());
        var monthEnd = new DateTime(today.Year, today.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        Assert.Equal("Commitment", line.GetProperty("charge").GetString());
        Assert.Equal(2 * (decimal)(monthEnd - today).TotalHours, line.GetProperty("quantityGpuHours").GetDecimal());
        Assert.Equal(made.GetProperty("tenantId").GetString(), tenantId);
    }
}
