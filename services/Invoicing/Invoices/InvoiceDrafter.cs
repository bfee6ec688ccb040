using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Billing.Ledger.Usage;
using Marten;
using Microsoft.Extensions.Options;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Rolls a month's hourly usage into each tenant's draft invoice. A draft changes only when its
/// lines do, and the append carries the version it was computed from, so two runs racing each
/// other cannot both write.
/// </summary>
public sealed class InvoiceDrafter(IDocumentStore store, IOptions<PriceBook> priceBook, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
{
    public static string PeriodOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    public static (DateTimeOffset Start, DateTimeOffset End) Bounds(string period)
    {
        var start = DateTimeOffset.ParseExact(period + "-01T00:00:00Z", "yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return (start, start.AddMonths(1));
    }

    /// <summary>Re-rates every tenant with usage in the period; returns how many invoices changed.</summary>
    public async Task<int> DraftAsync(string period, CancellationToken cancellationToken)
    {
        var (start, end) = Bounds(period);
        await using var query = store.QuerySession();
        var hours = await query.Query<UsageHour>().Where(h => h.HourStart >= start && h.HourStart < end).ToListAsync(cancellationToken);
        var changed = 0;
        foreach (var tenant in hours.GroupBy(h => h.TenantId))
        {
            var lines = Rating.Rate(tenant.Select(h => new MeteredUsage(h.Sku, h.Pricing, h.GpuSeconds)), priceBook.Value);
            changed += await DraftTenantAsync(tenant.Key, period, lines, cancellationToken) ? 1 : 0;
        }

        return changed;
    }

    private async Task<bool> DraftTenantAsync(string tenantId, string period, IReadOnlyList<InvoiceLine> lines, CancellationToken cancellationToken)
    {
        var id = Invoice.IdFor(tenantId, period);
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<Invoice>(id, cancellationToken);
        if (stream.Aggregate is { } current && current.Lines.SequenceEqual(lines))
        {
            return false;
        }

        stream.AppendOne(new InvoiceDrafted(id, tenantId, period, priceBook.Value.Currency, lines, Rating.Total(lines), time.GetUtcNow()));
        await session.SaveChangesAsync(cancellationToken);
        return true;
    }
}
