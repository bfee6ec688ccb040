using Billing.Invoicing.Audit;
using Billing.Invoicing.Commitments;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;
using Marten;

namespace Billing.Invoicing.Invoices;

/// <summary>What rating a period reads for some tenants: their usage by the minute, their commitments, and the prices in force.</summary>
public sealed class RatingInputs(string period, ILookup<string, RatableWindow> usage, ILookup<string, Commitment> commitments, PriceHistory prices, SpotPrices spot)
{
    private readonly (DateTimeOffset Start, DateTimeOffset End) bounds = BillingPeriod.Bounds(period);

    public int MinorUnitDigits => prices.At(bounds.Start).MinorUnitDigits;

    public IReadOnlyList<InvoiceLine> Lines(string tenantId) =>
        Rating.Rate(usage[tenantId], commitments[tenantId], prices, spot, bounds.Start, bounds.End);

    public IReadOnlyList<RatedPiece> Pieces(string tenantId) =>
        Rating.Pieces(usage[tenantId], commitments[tenantId], prices, spot, bounds.Start, bounds.End);

    /// <summary>Tenants' usage from their ratable hours: a minute each, all leases of a SKU and pricing model summed.</summary>
    public static async Task<ILookup<string, RatableWindow>> MinutesAsync(IQuerySession session, string period, string[] tenantIds, CancellationToken cancellationToken)
    {
        var hours = await session.Query<RatableHour>().Where(h => h.Period == period && h.TenantId.IsOneOf(tenantIds)).ToListAsync(cancellationToken);
        return hours
            .SelectMany(h => h.UsedMinutes().Select(m => (h.TenantId, Window: new RatableWindow(null, h.Sku, h.Pricing, m.Start, m.GpuSeconds, m.UnbilledGpuSeconds))))
            .ToLookup(m => m.TenantId, m => m.Window);
    }

    /// <summary>One tenant's stored windows, each with its usage id: what explaining a line shows.</summary>
    public static async Task<RatingInputs> WindowsOfAsync(IQuerySession session, string tenantId, string period, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        var windows = await session.Query<MeteredWindow>()
            .Where(w => w.TenantId == tenantId && w.WindowStart >= start && w.WindowStart < end)
            .ToListAsync(cancellationToken);
        var commitments = await session.Query<Commitment>()
            .Where(c => c.TenantId == tenantId && c.StartsAt < end && c.EndsAt > start)
            .ToListAsync(cancellationToken);
        var prices = await PriceHistory.LoadAsync(session, cancellationToken);
        var spot = await SpotPriceHistory.LoadAsync(session, windows.Select(w => w.Sku).Distinct(), cancellationToken);
        var usage = windows.ToLookup(w => w.TenantId, w => new RatableWindow(w.Id, w.Sku, w.Pricing, w.WindowStart, w.GpuSeconds, w.UnbilledGpuSeconds));
        return new RatingInputs(period, usage, commitments.ToLookup(c => c.TenantId), prices, spot);
    }
}
