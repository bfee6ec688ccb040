using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults;
using Billing.Invoicing.Invoices;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Billing.ServiceDefaults.Messaging;

namespace Billing.IntegrationTests;

public sealed class Closing_a_month(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "H100-SXM-80GB";
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Issues_gapless_numbers_once_and_bills_late_usage_as_an_adjustment_on_the_next_invoice()
    {
        var monthEnd = PlatformClient.NextMonth(api.Now);
        var period = BillingPeriod.Of(api.Now);
        var nextPeriod = BillingPeriod.Of(monthEnd);
        platform.Time.SetUtcNow(monthEnd.AddMinutes(-10));
        var (tenantId, tenant) = await api.TenantAsync("month-close");
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount: 1);
        await api.HeartbeatAsync(agent, nodeId, gpuCount: 1);
        var lease = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 1, pricing = "OnDemand" }), HttpStatusCode.Created);
        var leaseId = lease.GetProperty("leaseId").GetGuid();
        for (var i = 0; i < 8; i++)
        {
            api.Advance(TimeSpan.FromSeconds(15));
            await api.HeartbeatAsync(agent, nodeId, gpuCount: 1);
        }

        await tenant.PostAsync($"/v1/leases/{leaseId}/end", null);
        api.Advance(TimeSpan.FromSeconds(15));
        await api.HeartbeatAsync(agent, nodeId, gpuCount: 1);
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(tenant, monthEnd.AddHours(-1), monthEnd), 120m);

        platform.Time.SetUtcNow(monthEnd.AddMinutes(61));
        await Task.WhenAll(api.RunJobAsync("invoicing-draft"), api.RunJobAsync("invoicing-draft"), api.RunJobAsync("invoicing-draft"));
        var issued = await PlatformClient.InvoiceAsync(tenant, period);

        var lateWindow = monthEnd.AddMinutes(-5);
        var late = new UsageRecorded(Guid.NewGuid(), leaseId, tenantId, nodeId, Sku, PricingModel.OnDemand, lateWindow, 36m, api.Now);
        await platform.Services.GetRequiredService<LedgerRouter>().SendAsync(new UsageRecordedBatch(Guid.NewGuid(), [late]));
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(tenant, monthEnd.AddHours(-1), monthEnd), 156m);
        await api.RunJobAsync("invoicing-draft");
        var unchanged = await PlatformClient.InvoiceAsync(tenant, period);
        var next = await PlatformClient.InvoiceAsync(tenant, nextPeriod);

        Assert.Equal("Issued", issued.GetProperty("status").GetString());
        Assert.Matches(@"^INV-\d{4}-\d{6}$", issued.GetProperty("number").GetString());
        Assert.Equal(120m, issued.GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("gpuSeconds").GetDecimal()));
        Assert.Equal(issued.GetRawText(), unchanged.GetRawText());
        var adjustment = Assert.Single(next.GetProperty("lines").EnumerateArray());
        Assert.Equal(period, adjustment.GetProperty("adjustsPeriod").GetString());
        Assert.Equal(36m, adjustment.GetProperty("gpuSeconds").GetDecimal());
        Assert.Equal("Draft", next.GetProperty("status").GetString());

        // The issued month still proves out: its lines plus the adjustment equal a re-rating from the streams.
        var verified = await PlatformClient.ReadAsync(await api.Ops.PostAsync($"/v1/ops/invoices/{issued.GetProperty("invoiceId").GetGuid()}/verify", null), HttpStatusCode.OK);
        var reconciliation = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK);
        var row = reconciliation.GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("tenantId").GetString() == tenantId);
        var focus = await (await api.Ops.GetAsync($"/v1/exports/focus?period={period}")).Content.ReadAsStringAsync();
        Assert.True(verified.GetProperty("equal").GetBoolean(), verified.GetRawText());
        Assert.Equal((156m, 156m, 156m), (row.GetProperty("meteredGpuSeconds").GetDecimal(), row.GetProperty("ratedGpuSeconds").GetDecimal(), row.GetProperty("invoicedGpuSeconds").GetDecimal()));
        Assert.Contains(issued.GetProperty("number").GetString()!, focus);

        var all = await PlatformClient.ReadAsync(await api.Ops.GetAsync("/v1/invoices?status=Issued&pageSize=500"), HttpStatusCode.OK);
        var numbers = all.EnumerateArray().Select(i => i.GetProperty("number").GetString()!).Where(n => n.StartsWith($"INV-{monthEnd.Year}-", StringComparison.Ordinal))
            .Select(n => int.Parse(n[^6..], CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(Enumerable.Range(1, numbers.Count), numbers);
    }

    [Fact]
    public async Task A_close_that_stopped_midway_is_finished_by_the_next_run_without_a_gap_or_a_second_number()
    {
        var monthEnd = PlatformClient.NextMonth(api.Now.AddMinutes(45));
        var period = BillingPeriod.Of(monthEnd.AddDays(-1));
        platform.Time.SetUtcNow(monthEnd.AddMinutes(-10));
        var tenants = new[] { await api.TenantAsync("close-crash-a"), await api.TenantAsync("close-crash-b") };
        var usage = tenants.Select(t => new UsageRecorded(
            Guid.NewGuid(), Guid.NewGuid(), t.TenantId, "node-x", Sku, PricingModel.OnDemand, monthEnd.AddMinutes(-20), 60m, api.Now)).ToList();
        await platform.Services.GetRequiredService<LedgerRouter>().SendAsync(new UsageRecordedBatch(Guid.NewGuid(), usage));
        foreach (var (_, client) in tenants)
        {
            await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(client, monthEnd.AddHours(-1), monthEnd), 60m);
        }

        await api.RunJobAsync("invoicing-draft");
        var drafts = new List<Guid>();
        foreach (var (_, client) in tenants)
        {
            drafts.Add((await PlatformClient.InvoiceAsync(client, period)).GetProperty("invoiceId").GetGuid());
        }

        // The close stopped after issuing the first draft: no month-closed mark yet.
        platform.Time.SetUtcNow(monthEnd.AddMinutes(61));
        var first = await platform.Services.GetRequiredService<InvoiceIssuer>().IssueAsync(drafts[0], CancellationToken.None);
        await api.RunJobAsync("invoicing-draft");
        await api.RunJobAsync("invoicing-draft");
        var issued = new List<JsonElement>();
        foreach (var (_, client) in tenants)
        {
            issued.Add(await PlatformClient.InvoiceAsync(client, period));
        }

        Assert.All(issued, i => Assert.Equal("Issued", i.GetProperty("status").GetString()));
        Assert.Equal(first, issued[0].GetProperty("number").GetString());
        Assert.NotEqual(first, issued[1].GetProperty("number").GetString());
        var numbers = await IssuedNumbersAsync(api.Now.Year);
        Assert.Equal(Enumerable.Range(1, numbers.Count), numbers);
        Assert.All(issued, i => Assert.Equal(60m, i.GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("gpuSeconds").GetDecimal())));
    }

    [Fact]
    public async Task Racing_issuers_give_each_draft_exactly_one_number_and_skip_none()
    {
        // The job takes turns on a lock; the issuer must hold on its own when callers race it anyway.
        var store = platform.Services.GetRequiredService<IDocumentStore>();
        var issuer = platform.Services.GetRequiredService<InvoiceIssuer>();
        var period = BillingPeriod.Of(api.Now);
        var drafts = Enumerable.Range(0, 6).Select(i => Invoice.IdFor($"racing-{Guid.NewGuid():N}", period)).ToList();
        await using (var session = store.LightweightSession())
        {
            foreach (var id in drafts)
            {
                var line = new InvoiceLine("H100-SXM-80GB", Charge.OnDemand, PricingModel.OnDemand, 3600m, 1m, 2.49m, 2.49m);
                session.Events.StartStream<Invoice>(id, new InvoiceDrafted(id, $"tenant-of-{id:N}", period, "USD", [line], 2.49m, api.Now));
            }

            await session.SaveChangesAsync();
        }

        var numbers = await Task.WhenAll(drafts.SelectMany(id => Enumerable.Repeat(id, 3)).Select(id => Task.Run(() => issuer.IssueAsync(id, CancellationToken.None))));

        var byInvoice = drafts.Select((id, i) => numbers.Skip(i * 3).Take(3).Distinct().ToList()).ToList();
        Assert.All(byInvoice, n => Assert.Single(n));
        var sequences = byInvoice.Select(n => int.Parse(n[0]![^6..], CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(Enumerable.Range(sequences[0], drafts.Count), sequences);
        var all = await IssuedNumbersAsync(api.Now.Year);
        Assert.Equal(Enumerable.Range(1, all.Count), all);
    }

    /// <summary>The sequence numbers of every invoice issued in the year, in order.</summary>
    private async Task<List<int>> IssuedNumbersAsync(int year)
    {
        await using var query = platform.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var prefix = $"INV-{year}-";
        return (await query.Query<Invoice>().Where(i => i.Status == InvoiceStatus.Issued).ToListAsync())
            .Select(i => i.Number!).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => int.Parse(n[^6..], CultureInfo.InvariantCulture)).Order().ToList();
    }
}
