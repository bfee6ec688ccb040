using System.Net;
using System.Text.Json;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.IntegrationTests;

public sealed class Proving_invoices_from_the_streams(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    /// <summary>The standard lease (2355 GPU-seconds) run, stored and drafted: its tenant, start, month and draft invoice.</summary>
    private async Task<(string TenantId, HttpClient Tenant, Guid LeaseId, DateTimeOffset Start, string Period, JsonElement Invoice)> DraftedLeaseAsync()
    {
        var (tenantId, tenant, leaseId, start) = await api.RunLeaseAsync();
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        await api.RunJobAsync("invoicing-draft");
        var period = BillingPeriod.Of(start);
        return (tenantId, tenant, leaseId, start, period, await PlatformClient.InvoiceAsync(tenant, period));
    }

    [Fact]
    public async Task Metered_rated_and_invoiced_agree_and_the_invoice_verifies_before_and_after_a_rebuild()
    {
        var (tenantId, tenant, leaseId, start, period, invoice) = await DraftedLeaseAsync();
        var invoiceId = invoice.GetProperty("invoiceId").GetGuid();

        var reconciliation = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK);
        var verified = await PlatformClient.ReadAsync(await api.Ops.PostAsync($"/v1/ops/invoices/{invoiceId}/verify", null), HttpStatusCode.OK);
        var rebuilt = await api.Ops.PostAsync("/v1/ops/projections/usage-hours/rebuild", null);
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
        var verifiedAfter = await PlatformClient.ReadAsync(await api.Ops.PostAsync($"/v1/ops/invoices/{invoiceId}/verify", null), HttpStatusCode.OK);
        var stream = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/streams/{leaseId}"), HttpStatusCode.OK);
        var explained = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/invoices/{invoiceId}/lines/1/explain"), HttpStatusCode.OK);
        var (_, stranger) = await api.TenantAsync("stranger");

        var row = reconciliation.GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("tenantId").GetString() == tenantId);
        Assert.Equal((2355m, 2355m, 2355m), (row.GetProperty("meteredGpuSeconds").GetDecimal(), row.GetProperty("ratedGpuSeconds").GetDecimal(), row.GetProperty("invoicedGpuSeconds").GetDecimal()));
        Assert.True(row.GetProperty("equal").GetBoolean());
        Assert.True(verified.GetProperty("equal").GetBoolean(), verified.GetRawText());
        Assert.Equal(verified.GetProperty("storedHash").GetString(), verified.GetProperty("replayedHash").GetString());
        Assert.Equal(verified.GetProperty("billedHash").GetString(), verified.GetProperty("recomputedHash").GetString());
        Assert.Equal(HttpStatusCode.OK, rebuilt.StatusCode);
        Assert.True(verifiedAfter.GetProperty("equal").GetBoolean());
        Assert.Equal(verified.GetProperty("storedHash").GetString(), verifiedAfter.GetProperty("storedHash").GetString());
        Assert.True(explained.GetProperty("sumsToLine").GetBoolean(), explained.GetRawText());
        Assert.Equal(2355m, explained.GetProperty("pieces").EnumerateArray().Sum(p => p.GetProperty("gpuSeconds").GetDecimal()));
        Assert.All(explained.GetProperty("pieces").EnumerateArray(), p => Assert.Single(p.GetProperty("sources").EnumerateArray()));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/v1/invoices/{invoiceId}/lines/1/explain")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.GetAsync($"/v1/invoices/{invoiceId}/lines/9/explain")).StatusCode);
        var types = stream.EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Contains("lease_started", types);
        Assert.Contains("usage_recorded", types);
        Assert.Contains("lease_ended", types);
    }

    [Fact]
    public async Task Lost_usage_documents_are_rebuilt_from_the_streams_and_the_invoice_comes_out_the_same()
    {
        var (tenantId, tenant, _, _, period, drafted) = await DraftedLeaseAsync();
        var invoiceId = drafted.GetProperty("invoiceId").GetGuid();
        var store = platform.Services.GetRequiredService<IDocumentStore>();
        int lost;
        await using (var session = store.LightweightSession())
        {
            lost = await session.Query<MeteredWindow>().CountAsync(w => w.TenantId == tenantId);
            session.DeleteWhere<MeteredWindow>(w => w.TenantId == tenantId);
            session.DeleteWhere<RatableHour>(h => h.TenantId == tenantId);
            await session.SaveChangesAsync();
        }

        var damaged = await ReconciledAsync(tenantId, period);
        var rebuilt = await PlatformClient.ReadAsync(await api.Ops.PostAsync("/v1/ops/projections/ratable-usage/rebuild", null), HttpStatusCode.OK);
        await api.RunJobAsync("invoicing-draft");
        var redrafted = await PlatformClient.InvoiceAsync(tenant, period);
        var verified = await PlatformClient.ReadAsync(await api.Ops.PostAsync($"/v1/ops/invoices/{invoiceId}/verify", null), HttpStatusCode.OK);
        var explained = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/invoices/{invoiceId}/lines/1/explain"), HttpStatusCode.OK);
        await using var query = store.QuerySession();
        var hours = await query.Query<RatableHour>().Where(h => h.TenantId == tenantId).ToListAsync();
        var windows = await query.Query<MeteredWindow>().CountAsync(w => w.TenantId == tenantId);

        Assert.Equal(2355m, hours.Sum(h => h.GpuSeconds.Sum()));
        Assert.Equal((0m, 2355m), (damaged.GetProperty("meteredGpuSeconds").GetDecimal(), damaged.GetProperty("ratedGpuSeconds").GetDecimal()));
        Assert.InRange(lost, 10, 11); // the 600 s lease's minute windows
        Assert.Equal(lost, windows);
        Assert.True(rebuilt.GetProperty("windows").GetInt64() >= lost, rebuilt.GetRawText());
        Assert.Equal(drafted.GetProperty("lines").GetRawText(), redrafted.GetProperty("lines").GetRawText());
        Assert.True((await ReconciledAsync(tenantId, period)).GetProperty("equal").GetBoolean());
        Assert.True(verified.GetProperty("equal").GetBoolean(), verified.GetRawText());
        Assert.True(explained.GetProperty("sumsToLine").GetBoolean(), explained.GetRawText());
    }

    private async Task<JsonElement> ReconciledAsync(string tenantId, string period) =>
        (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK))
            .GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("tenantId").GetString() == tenantId);

    [Fact]
    public async Task Finance_pulls_an_invoice_as_csv_and_pdf_and_the_period_as_focus()
    {
        var (tenantId, tenant, _, _, period, invoice) = await DraftedLeaseAsync();
        var invoiceId = invoice.GetProperty("invoiceId").GetGuid();

        async Task<HttpResponseMessage> GetAs(string mediaType)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{invoiceId}");
            request.Headers.Accept.ParseAdd(mediaType);
            return await tenant.SendAsync(request);
        }

        var pdf = await GetAs("application/pdf");
        var csv = await GetAs("text/csv");
        var focus = await api.Ops.GetAsync($"/v1/exports/focus?period={period}");

        Assert.Equal("application/pdf", pdf.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("%PDF", System.Text.Encoding.ASCII.GetString(await pdf.Content.ReadAsByteArrayAsync())[..4]);
        Assert.Contains("H100-SXM-80GB", await csv.Content.ReadAsStringAsync());
        var focusText = await focus.Content.ReadAsStringAsync();
        Assert.Contains("BilledCost", focusText.Split('\n')[0]);
        Assert.Contains(tenantId, focusText);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync($"/v1/exports/focus?period={period}")).StatusCode);
    }

    [Fact]
    public async Task Ops_endpoints_refuse_unknown_names_and_other_roles()
    {
        var (_, tenant) = await api.TenantAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await api.Ops.PostAsync("/v1/ops/projections/nope/rebuild", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.Ops.GetAsync($"/v1/ops/streams/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.Ops.GetAsync("/v1/reconciliation?period=2026-13")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("/v1/reconciliation?period=2026-11")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.PostAsync($"/v1/ops/invoices/{Guid.NewGuid()}/verify", null)).StatusCode);
    }
}
