using Billing.Contracts.Fleet;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Invoices;
using Billing.Ledger;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;
using Marten;

namespace Billing.Invoicing.Audit;

/// <summary>
/// Rates a period from the event streams alone (usage events of the lease streams, commitment,
/// price book and spot streams), bypassing every read model: what an invoice must match.
/// </summary>
public static class InvoiceRecomputation
{
    /// <summary>The period's rating inputs from the streams: of one tenant, or (null) of every tenant, read once.</summary>
    public static async Task<RatingInputs> InputsAsync(IQuerySession session, string period, string? tenantId, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        var usageEvents = session.Events.QueryRawEventDataOnly<UsageRecorded>().Where(u => u.WindowStart >= start && u.WindowStart < end);
        IQueryable<CommitmentMade> commitmentEvents = session.Events.QueryRawEventDataOnly<CommitmentMade>();
        if (tenantId is not null)
        {
            usageEvents = usageEvents.Where(u => u.TenantId == tenantId);
            commitmentEvents = commitmentEvents.Where(c => c.TenantId == tenantId);
        }

        var usage = (await usageEvents.ToListAsync(cancellationToken)).DistinctBy(u => u.UsageId).ToList();
        var commitments = (await commitmentEvents.ToListAsync(cancellationToken))
            .Select(Commitment.Create)
            .Where(c => c.StartsAt < end && c.EndsAt > start);
        var prices = await PriceHistory.LoadAsync(session, cancellationToken);
        var spot = await SpotPriceHistory.LoadAsync(session, usage.Select(u => u.Sku).Distinct(), cancellationToken);
        var meters = await new MartenRatableUsage(session).MeterHoursFromStreamsAsync(period, tenantId, cancellationToken);
        return new RatingInputs(
            period,
            usage.ToLookup(u => u.TenantId, u => new RatableWindow(u.UsageId, u.Sku, u.Pricing, u.WindowStart, u.GpuSeconds, u.UnbilledGpuSeconds)),
            commitments.ToLookup(c => c.TenantId),
            prices,
            spot,
            meters: meters.ToLookup(h => h.TenantId));
    }

    /// <summary>
    /// What a period's usage was billed as, all invoices together: the period's own lines plus the
    /// adjustment lines for it on later invoices, summed per SKU and charge.
    /// </summary>
    public static IReadOnlyList<InvoiceLine> BilledFor(string period, Invoice? own, IEnumerable<Invoice> later) =>
        (own?.Lines.Where(l => l.AdjustsPeriod is null) ?? [])
            .Concat(later.SelectMany(i => i.Lines).Where(l => l.AdjustsPeriod == period))
            .GroupBy(l => (l.Sku, l.Charge, l.Metered?.Group, l.Metered?.Tier))
            .Select(g => g.First() with
            {
                GpuSeconds = g.Sum(l => l.GpuSeconds),
                Amount = g.Sum(l => l.Amount),
                AdjustsPeriod = null,
                Metered = g.First().Metered is { } metered ? metered with { Quantity = g.Sum(l => l.Metered!.Quantity) } : null,
            })
            .Where(l => l.GpuSeconds != 0 || l.Amount != 0 || l.Metered?.Quantity is not (null or 0))
            .ToList();
}

/// <summary>Loads the published spot prices of SKUs from their streams.</summary>
public static class SpotPriceHistory
{
    public static async Task<SpotPrices> LoadAsync(IQuerySession session, IEnumerable<string> skus, CancellationToken cancellationToken)
    {
        var history = new Dictionary<string, IReadOnlyList<(DateTimeOffset, decimal)>>();
        foreach (var sku in skus)
        {
            var events = await session.Events.FetchStreamAsync(StreamIds.Spot(sku), token: cancellationToken);
            history[sku] = events.Select(e => e.Data).OfType<SpotPriceChanged>().Select(c => (c.EffectiveAt, c.Price)).ToList();
        }

        return new SpotPrices(history);
    }
}
