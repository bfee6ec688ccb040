using System.Text.Json;
using Billing.Contracts.Fleet;
using Billing.Invoicing.Audit;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Invoices;
using Billing.Ledger.Meters;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Npgsql;

namespace Billing.Invoicing.Exports;

/// <summary>Reads what the FOCUS export of a period needs: its invoices and, per tenant, the usage each part of the invoice was rated from.</summary>
public static class FocusQuery
{
    /// <summary>Marten's table of the fleet's node registrations (document <c>NodeRegistration</c>, camelCase JSON).</summary>
    private const string NodeTable = "mt_doc_noderegistration";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<IReadOnlyList<FocusRow>> RowsAsync(IQuerySession session, string period, CancellationToken cancellationToken)
    {
        var invoices = await session.Query<Invoice>().Where(i => i.Period == period).OrderBy(i => i.TenantId).ToListAsync(cancellationToken);
        var tenants = (await session.LoadManyAsync<Tenant>(cancellationToken, invoices.Select(i => i.TenantId))).ToDictionary(t => t.Id, t => t.Name);
        var prices = await PriceHistory.LoadAsync(session, cancellationToken);
        var spot = await SpotPriceHistory.LoadAsync(session, prices.Versions.SelectMany(v => v.Skus.Keys).Distinct(), cancellationToken);
        var focus = new List<FocusInvoice>();
        foreach (var invoice in invoices)
        {
            // Each part as rated for the invoice: its own lines, and what an adjusted period's invoice was issued from and adjusted to.
            var own = await UsageAsync(session, invoice.TenantId, period, await RevisionAsync(session, invoice.TenantId, period, period, cancellationToken), cancellationToken);
            var adjusted = new List<FocusAdjusted>();
            foreach (var adjusts in invoice.Lines.Select(l => l.AdjustsPeriod).OfType<string>().Distinct())
            {
                var issued = await session.LoadAsync<Invoice>(Invoice.IdFor(invoice.TenantId, adjusts), cancellationToken);
                var issuedFrom = await RevisionAsync(session, invoice.TenantId, adjusts, adjusts, cancellationToken);
                adjusted.Add(new FocusAdjusted(
                    adjusts,
                    issued is null ? new FocusUsage([], []) : await UsageAsync(session, invoice.TenantId, adjusts, issuedFrom, cancellationToken),
                    await UsageAsync(session, invoice.TenantId, adjusts, await RevisionAsync(session, invoice.TenantId, period, adjusts, cancellationToken), cancellationToken),
                    issued));
            }

            focus.Add(new FocusInvoice(invoice, tenants.GetValueOrDefault(invoice.TenantId), own, adjusted));
        }

        var leases = focus.SelectMany(f => f.Adjusted.Select(a => a.AsAdjusted).Append(f.Own)).SelectMany(u => u.Windows).Select(w => w.LeaseId).Distinct().ToArray();
        var meters = await session.Events.AggregateStreamAsync<MeterVersions.MeterBook>(MeterVersions.StreamId, token: cancellationToken);
        var units = meters?.Version.Meters.ToDictionary(m => m.Key, m => m.Value.Unit) ?? [];
        return FocusExport.Rows(focus, prices, spot, await RegionsAsync(session, leases, cancellationToken), units);
    }

    /// <summary>The usage revision a tenant's invoice of <paramref name="invoicePeriod"/> rated <paramref name="ratedPeriod"/> from; none stored: all of it.</summary>
    private static async Task<long> RevisionAsync(IQuerySession session, string tenantId, string invoicePeriod, string ratedPeriod, CancellationToken cancellationToken) =>
        (await session.LoadAsync<RatingCheckpoint>(RatingCheckpoint.IdFor(tenantId, invoicePeriod, ratedPeriod), cancellationToken))?.UsageRevision ?? long.MaxValue;

    private static async Task<FocusUsage> UsageAsync(IQuerySession session, string tenantId, string period, long upToRevision, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        var windows = await session.Query<MeteredWindow>()
            .Where(w => w.TenantId == tenantId && w.WindowStart >= start && w.WindowStart < end && w.Revision <= upToRevision)
            .ToListAsync(cancellationToken);
        var commitments = await session.Query<Commitment>()
            .Where(c => c.TenantId == tenantId && c.StartsAt < end && c.EndsAt > start)
            .ToListAsync(cancellationToken);
        return new FocusUsage(windows, commitments);
    }

    /// <summary>
    /// The region of the node each lease ran on: the node from the lease's stream (its
    /// <see cref="LeaseStarted"/> contract event), the region from the fleet's node registration,
    /// read as data (invoicing does not take the fleet module as a dependency). A lease never started,
    /// or a store without the fleet's table, gets no region.
    /// </summary>
    private static async Task<IReadOnlyDictionary<Guid, string>> RegionsAsync(IQuerySession session, Guid[] leaseIds, CancellationToken cancellationToken)
    {
        var nodesByLease = (await session.Events.QueryRawEventDataOnly<LeaseStarted>().Where(e => e.LeaseId.IsOneOf(leaseIds)).ToListAsync(cancellationToken))
            .DistinctBy(e => e.LeaseId)
            .ToDictionary(e => e.LeaseId, e => e.NodeId);
        if (nodesByLease.Count == 0)
        {
            return new Dictionary<Guid, string>();
        }

        IReadOnlyList<string> rows;
        try
        {
            rows = await session.AdvancedSql.QueryAsync<string>(
                $"select jsonb_build_object('nodeId', id, 'region', data ->> 'region')::text from {session.DocumentStore.Options.DatabaseSchemaName}.{NodeTable} where id = any(?)",
                cancellationToken,
                [nodesByLease.Values.Distinct().ToArray()]); // one array parameter, not one parameter per node
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return new Dictionary<Guid, string>();
        }

        var regions = rows.Select(r => JsonSerializer.Deserialize<NodeRegion>(r, Json)!).Where(n => n.Region is not null).ToDictionary(n => n.NodeId, n => n.Region!);
        return nodesByLease.Where(l => regions.ContainsKey(l.Value)).ToDictionary(l => l.Key, l => regions[l.Value]);
    }

    private sealed record NodeRegion(string NodeId, string? Region);
}
