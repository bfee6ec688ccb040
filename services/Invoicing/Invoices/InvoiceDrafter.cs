using System.Globalization;
using Billing.Invoicing.Commitments;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Rolls a month's metered windows and commitments into each tenant's draft invoice, with
/// adjustment lines for late usage of an issued month. A draft changes only when its lines do; the
/// append carries the version it was computed from, so racing runs cannot both write; issued
/// invoices are never touched.
/// </summary>
public sealed partial class InvoiceDrafter(IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time, ILogger<InvoiceDrafter> logger)
{
    public static string PeriodOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static (DateTimeOffset Start, DateTimeOffset End) Bounds(string period)
    {
        var start = DateTimeOffset.ParseExact(period + "-01T00:00:00Z", "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return (start, start.AddMonths(1));
    }

    /// <summary>
    /// Re-rates every tenant's draft for <paramref name="period"/>; with <paramref name="adjusting"/>
    /// (an issued period) it also carries what those invoices missed. Returns how many drafts changed.
    /// </summary>
    public async Task<int> DraftAsync(string period, string? adjusting, CancellationToken cancellationToken)
    {
        await using var query = store.QuerySession();
        var prices = await PriceHistory.LoadAsync(query, cancellationToken);
        var current = await RateAsync(query, period, prices, cancellationToken, (tenantId, ex) => LogUnrated(logger, ex, tenantId, period));
        var late = adjusting is null ? [] : await AdjustmentsAsync(query, adjusting, prices, (tenantId, ex) => LogUnrated(logger, ex, tenantId, adjusting), cancellationToken);
        var changed = 0;
        foreach (var tenantId in current.Keys.Union(late.Keys))
        {
            var lines = current.GetValueOrDefault(tenantId, []).Concat(late.GetValueOrDefault(tenantId, [])).ToList();
            changed += await DraftTenantAsync(tenantId, period, prices.At(Bounds(period).Start).Currency, lines, cancellationToken) ? 1 : 0;
        }

        return changed;
    }

    /// <summary>Every tenant's lines for a period, from its metered windows, commitments and the prices in force.</summary>
    public static async Task<Dictionary<string, IReadOnlyList<InvoiceLine>>> RateAsync(
        IQuerySession session, string period, PriceHistory prices, CancellationToken cancellationToken, Action<string, Exception>? onUnrated = null)
    {
        var inputs = await RatingInputs.LoadAsync(session, period, prices, cancellationToken);
        var rated = new Dictionary<string, IReadOnlyList<InvoiceLine>>();
        foreach (var tenantId in inputs.Tenants)
        {
            try
            {
                rated[tenantId] = inputs.Lines(tenantId);
            }
            catch (UnknownSkuException ex)
            {
                // One tenant's unpriceable usage must not hold back everyone's invoice; reconciliation shows it.
                onUnrated?.Invoke(tenantId, ex);
            }
        }

        return rated;
    }

    private static async Task<Dictionary<string, IReadOnlyList<InvoiceLine>>> AdjustmentsAsync(
        IQuerySession session, string period, PriceHistory prices, Action<string, Exception> onUnrated, CancellationToken cancellationToken)
    {
        var rerated = await RateAsync(session, period, prices, cancellationToken, onUnrated);
        var issued = await session.Query<Invoice>().Where(i => i.Period == period && i.Status == InvoiceStatus.Issued).ToListAsync(cancellationToken);
        return rerated.Keys.Union(issued.Select(i => i.TenantId)).Distinct().Where(rerated.ContainsKey).ToDictionary(
            tenantId => tenantId,
            tenantId => Rating.Adjustments(rerated.GetValueOrDefault(tenantId, []), issued.FirstOrDefault(i => i.TenantId == tenantId)?.Lines ?? [], period));
    }

    private async Task<bool> DraftTenantAsync(string tenantId, string period, string currency, IReadOnlyList<InvoiceLine> lines, CancellationToken cancellationToken)
    {
        var id = Invoice.IdFor(tenantId, period);
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<Invoice>(id, cancellationToken);
        if (stream.Aggregate is { } current && (current.Status != InvoiceStatus.Draft || current.Lines.SequenceEqual(lines)))
        {
            return false;
        }

        // No invoice for a tenant with nothing to charge (health credits alone are not a bill).
        if (stream.Aggregate is null && lines.All(l => l.GpuSeconds == 0 && l.Amount == 0))
        {
            return false;
        }

        stream.AppendOne(new InvoiceDrafted(id, tenantId, period, currency, lines, Rating.Total(lines), time.GetUtcNow()));
        try
        {
            await session.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (WriteConflicts.IsConflict(ex))
        {
            // A concurrent run drafted (or issued) it from the same usage; the next run re-rates anyway.
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId}'s usage in {Period} cannot be rated; its invoice is left as it was.")]
    private static partial void LogUnrated(ILogger logger, Exception exception, string tenantId, string period);
}
