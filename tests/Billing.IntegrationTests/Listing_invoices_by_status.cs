using System.Net;
using Billing.Contracts;
using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.IntegrationTests;

public sealed class Listing_invoices_by_status(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Status_is_stored_and_served_by_name_an_unknown_one_is_refused_and_so_is_a_page_past_the_bound()
    {
        var store = platform.Services.GetRequiredService<IDocumentStore>();
        var period = BillingPeriod.Of(api.Now);
        var tenantId = $"status-{Guid.NewGuid():N}"[..20];
        var id = Invoice.IdFor(tenantId, period);
        await using (var session = store.LightweightSession())
        {
            var line = new InvoiceLine("H100-SXM-80GB", Charge.OnDemand, PricingModel.OnDemand, 3600m, 1m, 2.49m, 2.49m);
            session.Events.StartStream<Invoice>(id, new InvoiceDrafted(id, tenantId, period, "USD", [line], 2.49m, api.Now));
            await session.SaveChangesAsync();
        }

        await using var query = store.QuerySession();
        var stored = await query.QueryAsync<string>($"select data ->> 'status' from {store.Options.DatabaseSchemaName}.mt_doc_invoice where id = ?", id);
        var drafts = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/invoices?tenantId={tenantId}&status=draft"), HttpStatusCode.OK);
        var issued = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/invoices?tenantId={tenantId}&status=Issued"), HttpStatusCode.OK);
        var refused = await Task.WhenAll(new[] { "Paid", "1", "Draft,Issued" }.Select(s => api.Ops.GetAsync($"/v1/invoices?status={Uri.EscapeDataString(s)}"))
            .Append(api.Ops.GetAsync($"/v1/invoices?page={int.MaxValue}&pageSize=500")));

        Assert.Equal("Draft", Assert.Single(stored));
        Assert.Equal("Draft", Assert.Single(drafts.EnumerateArray()).GetProperty("status").GetString());
        Assert.Empty(issued.EnumerateArray());
        Assert.All(refused, r => Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (r.StatusCode, r.Content.Headers.ContentType?.MediaType)));
    }
}
