using Billing.Invoicing.Audit;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Meters;
using Billing.Ledger;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;
using Marten;

namespace Billing.Invoicing.Invoices;

/// <summary>What rating a period reads for some tenants: their usage by the minute, their commitments, and the prices in force.</summary>
public sealed class RatingInputs(
    string period, ILookup<string, RatableWindow> usage, ILookup<string, Commitment> commitments, PriceHistory prices, SpotPrices spot,
    IReadOnlyDictionary<string, long>? revisions = null, ILookup<string, MeterUsageHour>? meters = null)
{
    private readonly ILookup<string, MeterUsageHour> meters = meters ?? Array.Empty<MeterUsageHour>().ToLookup(h => h.TenantId);

    private readonly (DateTimeOffset Start, DateTimeOffset End) bounds = BillingPeriod.Bounds(period);

    public int MinorUnitDigits => prices.At(bounds.Start).MinorUnitDigits;

    /// <summary>Every tenant with usage or a commitment in the inputs.</summary>
    public IEnumerable<string> Tenants => usage.Select(u => u.Key).Union(commitments.Select(c => c.Key)).Union(meters.Select(m => m.Key));

    /// <summary>The usage revision the tenant's inputs show (0: no usage).</summary>
    public long RevisionOf(string tenantId) => revisions?.GetValueOrDefault(tenantId) ?? 0;

    /// <summary>GPU lines, then meter lines (per meter, group and tier).</summary>
    public IReadOnlyList<InvoiceLine> Lines(string tenantId) =>
        [.. Rating.Rate(usage[tenantId], commitments[tenantId], prices, spot, bounds.Start, bounds.End), .. MeterRating.Lines(meters[tenantId], prices, MinorUnitDigits)];

    /// <summary>The tenant's meter usage priced hour by hour: what its meter lines sum.</summary>
    public IReadOnlyList<MeterPiece> MeterPieces(string tenantId) => MeterRating.Pieces(meters[tenantId], prices);

    public IEnumerable<MeterUsageHour> MeterHours(string tenantId) => meters[tenantId];

    public IReadOnlyList<RatedPiece> Pieces(string tenantId) =>
        Rating.Pieces(usage[tenantId], commitments[tenantId], prices, spot, bounds.Start, bounds.End);

    /// <summary>
    /// Tenants' usage from their ratable hours, read in one statement (one snapshot): the newest
    /// hour of each tenant gives the revision the read shows.
    /// </summary>
    public static async Task<RatingInputs> FromHoursAsync(
        IQuerySession session, string period, string[] tenantIds, ILookup<string, Commitment> commitments, PriceHistory prices, SpotPrices spot,
        CancellationToken cancellationToken)
    {
        var usage = await new MartenRatableUsage(session).HoursAsync(period, tenantIds, cancellationToken);
        return new RatingInputs(period, MinutesOf(usage.Gpu), commitments, prices, spot, usage.Revisions(), usage.Meters.ToLookup(h => h.TenantId));
    }

    public static ILookup<string, RatableWindow> MinutesOf(IEnumerable<GpuUsageHour> hours) =>
        hours
            .SelectMany(h => Enumerable.Range(0, h.GpuSeconds.Count)
                .Where(m => h.GpuSeconds[m] != 0 || h.UnbilledGpuSeconds[m] != 0)
                .Select(m => (h.TenantId, Window: new RatableWindow(null, h.Sku, h.Pricing, h.HourStart.AddMinutes(m), h.GpuSeconds[m], h.UnbilledGpuSeconds[m]))))
            .ToLookup(m => m.TenantId, m => m.Window);

    public static ILookup<string, RatableWindow> MinutesOf(IEnumerable<RatableHour> hours) =>
        hours
            .SelectMany(h => h.UsedMinutes().Select(m => (h.TenantId, Window: new RatableWindow(null, h.Sku, h.Pricing, m.Start, m.GpuSeconds, m.UnbilledGpuSeconds))))
            .ToLookup(m => m.TenantId, m => m.Window);

    /// <summary>
    /// One tenant's stored windows, each with its usage id: what explaining a line shows. With
    /// <paramref name="upToRevision"/>, only the windows a rating from that revision included.
    /// </summary>
    public static async Task<RatingInputs> WindowsOfAsync(IQuerySession session, string tenantId, string period, long? upToRevision, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        var upTo = upToRevision ?? long.MaxValue;
        var windows = await session.Query<MeteredWindow>()
            .Where(w => w.TenantId == tenantId && w.WindowStart >= start && w.WindowStart < end && w.Revision <= upTo)
            .ToListAsync(cancellationToken);
        var commitments = await session.Query<Commitment>()
            .Where(c => c.TenantId == tenantId && c.StartsAt < end && c.EndsAt > start)
            .ToListAsync(cancellationToken);
        var prices = await PriceHistory.LoadAsync(session, cancellationToken);
        var spot = await SpotPriceHistory.LoadAsync(session, windows.Select(w => w.Sku).Distinct(), cancellationToken);
        var usage = windows.ToLookup(w => w.TenantId, w => new RatableWindow(w.Id, w.Sku, w.Pricing, w.WindowStart, w.GpuSeconds, w.UnbilledGpuSeconds));
        var meters = await new MartenRatableUsage(session).MeterHoursAsync(tenantId, period, upToRevision, cancellationToken);
        return new RatingInputs(period, usage, commitments.ToLookup(c => c.TenantId), prices, spot, meters: meters.ToLookup(h => h.TenantId));
    }
}
