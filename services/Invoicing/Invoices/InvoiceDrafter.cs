using System.Globalization;
using Billing.Contracts.Fleet;
using Billing.Invoicing.Commitments;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Rolls a month's metered windows and commitments into each tenant's draft invoice. A draft changes
/// only when its lines do, and the append carries the version it was computed from, so two runs
/// racing each other cannot both write.
/// </summary>
public sealed class InvoiceDrafter(IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
{
    public static string PeriodOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static (DateTimeOffset Start, DateTimeOffset End) Bounds(string period)
    {
        var start = DateTimeOffset.ParseExact(period + "-01T00:00:00Z", "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return (start, start.AddMonths(1));
    }

    /// <summary>Re-rates every tenant with usage or a commitment in the period; returns how many invoices changed.</summary>
    public async Task<int> DraftAsync(string period, CancellationToken cancellationToken)
    {
        var (start, end) = Bounds(period);
        await using var query = store.QuerySession();
        var prices = await PriceHistory.LoadAsync(query, cancellationToken);
        var windows = await query.Query<MeteredWindow>().Where(w => w.WindowStart >= start && w.WindowStart < end).ToListAsync(cancellationToken);
        var commitments = await query.Query<Commitment>().Where(c => c.StartsAt < end && c.EndsAt > start).ToListAsync(cancellationToken);
        var spot = await LoadSpotAsync(query, windows.Select(w => w.Sku).Distinct(), cancellationToken);
        var changed = 0;
        foreach (var tenantId in windows.Select(w => w.TenantId).Union(commitments.Select(c => c.TenantId)).Distinct())
        {
            var lines = Rating.Rate(
                windows.Where(w => w.TenantId == tenantId).Select(w => new RatableWindow(w.Sku, w.Pricing, w.WindowStart, w.GpuSeconds)),
                commitments.Where(c => c.TenantId == tenantId), prices, spot, start, end);
            changed += await DraftTenantAsync(tenantId, period, prices.At(start).Currency, lines, cancellationToken) ? 1 : 0;
        }

        return changed;
    }

    private static async Task<SpotPrices> LoadSpotAsync(IQuerySession session, IEnumerable<string> skus, CancellationToken cancellationToken)
    {
        var history = new Dictionary<string, IReadOnlyList<(DateTimeOffset, decimal)>>();
        foreach (var sku in skus)
        {
            var events = await session.Events.FetchStreamAsync(StreamIds.Spot(sku), token: cancellationToken);
            history[sku] = events.Select(e => e.Data).OfType<SpotPriceChanged>().Select(c => (c.EffectiveAt, c.Price)).ToList();
        }

        return new SpotPrices(history);
    }

    private async Task<bool> DraftTenantAsync(string tenantId, string period, string currency, IReadOnlyList<InvoiceLine> lines, CancellationToken cancellationToken)
    {
        var id = Invoice.IdFor(tenantId, period);
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<Invoice>(id, cancellationToken);
        if (stream.Aggregate is { } current && current.Lines.SequenceEqual(lines))
        {
            return false;
        }

        stream.AppendOne(new InvoiceDrafted(id, tenantId, period, currency, lines, Rating.Total(lines), time.GetUtcNow()));
        await session.SaveChangesAsync(cancellationToken);
        return true;
    }
}
