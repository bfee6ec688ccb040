using Billing.Invoicing.Invoices;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults;
using Billing.Ledger.Usage;
using Marten;

namespace Billing.Invoicing.Audit;

/// <summary>
/// One meter of a tenant's month: events and quantity ingested (the log) = aggregated (the hourly
/// aggregates) = rated (rating the meter's stream events now) = invoiced (its lines plus adjustments).
/// A max meter's quantity is its peak.
/// </summary>
public sealed record MeterReconciliation(
    string Meter, long IngestedEvents, long AggregatedEvents, decimal Ingested, decimal Aggregated, decimal Rated, decimal Invoiced, bool Equal);

public sealed record TenantReconciliation(
    string TenantId, decimal MeteredGpuSeconds, decimal RatedGpuSeconds, decimal InvoicedGpuSeconds, bool Equal, IReadOnlyList<string> Differences,
    IReadOnlyList<MeterReconciliation>? Meters = null);

public sealed record ReconciliationReport(string Period, bool Equal, IReadOnlyList<TenantReconciliation> Tenants);

/// <summary>
/// For a period, per tenant: GPU-seconds metered (the ledger's stored windows) = rated (rating the
/// usage events now) = invoiced (the period's usage lines plus later adjustments for it); and per
/// meter, ingested = aggregated = rated = invoiced (<see cref="MeterReconciliation"/>).
/// </summary>
public sealed class Reconciliation(IDocumentStore store, MeterAudit meterAudit)
{
    public async Task<ReconciliationReport> ReportAsync(string period, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        await using var session = store.QuerySession();
        // Each source read once for the whole period, then grouped by tenant: the report scales with the month, not tenants × month.
        var metered = (await session.Query<MeteredWindow>().Where(w => w.WindowStart >= start && w.WindowStart < end).ToListAsync(cancellationToken))
            .GroupBy(w => w.TenantId).ToDictionary(g => g.Key, g => g.Sum(w => w.GpuSeconds));
        var invoices = (await session.Query<Invoice>().Where(i => i.Period.CompareTo(period) >= 0).ToListAsync(cancellationToken)).ToLookup(i => i.TenantId);
        var streams = await InvoiceRecomputation.InputsAsync(session, period, tenantId: null, cancellationToken);
        var failures = (await session.Query<RatingFailure>().Where(f => f.Period == period).ToListAsync(cancellationToken)).ToDictionary(f => f.TenantId);
        var meters = (await meterAudit.TotalsAsync(period, cancellationToken)).ToLookup(m => m.TenantId);
        var tenants = metered.Keys.Union(invoices.Where(g => g.Any(i => i.Period == period)).Select(g => g.Key)).Union(streams.Tenants).Union(failures.Keys)
            .Union(meters.Select(m => m.Key)).Order(StringComparer.Ordinal);
        var rows = new List<TenantReconciliation>();
        foreach (var tenantId in tenants)
        {
            var row = MeterRows(Reconcile(tenantId, period, metered.GetValueOrDefault(tenantId), streams, invoices[tenantId]), period, meters[tenantId], streams, invoices[tenantId]);
            rows.Add(failures.TryGetValue(tenantId, out var failure)
                ? row with
                {
                    Equal = false,
                    Differences =
                    [
                        .. row.Differences,
                        $"the draft job cannot rate it since {failure.Since:yyyy-MM-dd'T'HH:mm:ss'Z'} ({failure.Problem}): its invoice of the month is not updated, nor issued at the close, until a run rates it (every run tries).",
                    ],
                }
                : row);
        }

        return new ReconciliationReport(period, rows.All(r => r.Equal), rows);
    }

    private static TenantReconciliation Reconcile(string tenantId, string period, decimal metered, RatingInputs streams, IEnumerable<Invoice> invoices)
    {
        decimal rated;
        try
        {
            rated = Usage(streams.Lines(tenantId));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One tenant that cannot be rated must not hide the others' report.
            return new TenantReconciliation(tenantId, metered, 0, 0, false, [$"cannot be rated from the streams: {RatingFailure.Describe(ex)}"]);
        }

        var own = invoices.SingleOrDefault(i => i.Period == period);
        var invoiced = Usage(InvoiceRecomputation.BilledFor(period, own, invoices.Where(i => i.Period != period)));
        return Row(tenantId, metered, rated, invoiced, own);
    }

    /// <summary>Adds the tenant's meters to its row: ingested = aggregated = rated = invoiced, with the cause of each difference.</summary>
    private static TenantReconciliation MeterRows(
        TenantReconciliation row, string period, IEnumerable<MeterLedgerTotals> ledger, RatingInputs streams, IEnumerable<Invoice> invoices)
    {
        var own = invoices.SingleOrDefault(i => i.Period == period);
        var billed = InvoiceRecomputation.BilledFor(period, own, invoices.Where(i => i.Period != period)).Where(l => l.Metered is not null).ToList();
        IReadOnlyList<Billing.Invoicing.Meters.MeterPiece> rated;
        try
        {
            rated = streams.MeterPieces(row.TenantId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            rated = [];
        }

        var totals = ledger.ToDictionary(m => m.Meter);
        var meters = totals.Keys.Union(rated.Select(p => p.Meter)).Union(billed.Select(l => l.Metered!.Meter)).Order(StringComparer.Ordinal).Select(meter =>
        {
            var t = totals.GetValueOrDefault(meter);
            var ratedQuantity = rated.Where(p => p.Meter == meter).Sum(p => p.Quantity);
            var invoiced = billed.Where(l => l.Metered!.Meter == meter).Sum(l => l.Metered!.Quantity);
            var equal = t is not null && t.IngestedEvents == t.AggregatedEvents && t.Ingested == t.Aggregated && t.Aggregated == ratedQuantity && ratedQuantity == invoiced;
            return new MeterReconciliation(meter, t?.IngestedEvents ?? 0, t?.AggregatedEvents ?? 0, t?.Ingested ?? 0, t?.Aggregated ?? 0, ratedQuantity, invoiced, equal);
        }).ToList();
        var differences = meters.Where(m => !m.Equal).Select(m => Difference(m, own)).ToList();
        return row with { Meters = meters, Equal = row.Equal && differences.Count == 0, Differences = [.. row.Differences, .. differences] };
    }

    private static string Difference(MeterReconciliation m, Invoice? own) =>
        m.IngestedEvents != m.AggregatedEvents || m.Ingested != m.Aggregated
            ? $"meter {m.Meter}: ingested {m.IngestedEvents} events ({m.Ingested}) ≠ aggregated {m.AggregatedEvents} events ({m.Aggregated}): the rollup has not taken every logged event yet (it runs continuously)."
            : m.Aggregated != m.Rated
                ? $"meter {m.Meter}: aggregated {m.Aggregated} ≠ rated {m.Rated}: the hourly aggregates and the meter stream's events disagree."
                : own is null or { Status: InvoiceStatus.Draft }
                    ? $"meter {m.Meter}: rated {m.Rated} ≠ invoiced {m.Invoiced}: usage arrived since the draft was last rated (the next job run re-rates it)."
                    : $"meter {m.Meter}: rated {m.Rated} ≠ invoiced {m.Invoiced}: late usage of an issued invoice not yet on the next invoice as an adjustment.";

    private static decimal Usage(IEnumerable<InvoiceLine> lines) => lines.Where(l => l.Charge != Charge.Commitment).Sum(l => l.GpuSeconds);

    private static TenantReconciliation Row(string tenantId, decimal metered, decimal rated, decimal invoiced, Invoice? own)
    {
        var differences = new List<string>();
        if (metered != rated)
        {
            differences.Add($"metered {metered} ≠ rated {rated}: the ledger's windows and its usage events disagree (rebuild the read models).");
        }

        if (rated != invoiced)
        {
            differences.Add(own is null or { Status: InvoiceStatus.Draft }
                ? $"rated {rated} ≠ invoiced {invoiced}: usage arrived since the draft was last rated (the next job run re-rates it)."
                : $"rated {rated} ≠ invoiced {invoiced}: late usage of an issued invoice not yet on the next invoice as an adjustment.");
        }

        return new TenantReconciliation(tenantId, metered, rated, invoiced, differences.Count == 0, differences);
    }
}
