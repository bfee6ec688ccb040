using Billing.Contracts.Fleet;
using Billing.ServiceDefaults.GpuEnergy;
using Marten;

namespace Billing.Ledger.Leases;

/// <summary>A tenant's lease as the ledger's lease streams record it: its terms and where it ran.</summary>
public sealed record LedgerLease(LeaseStarted Started, LeasePlacement Placement);

public static class LeasePlacements
{
    /// <summary>The tenant's leases that ran at some time in [<paramref name="from"/>, <paramref name="to"/>), from their started and ended facts.</summary>
    public static async Task<IReadOnlyList<LedgerLease>> OfTenantAsync(
        IQuerySession session, string tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var started = await session.Events.QueryRawEventDataOnly<LeaseStarted>().Where(e => e.TenantId == tenantId).ToListAsync(cancellationToken);
        var ended = (await session.Events.QueryRawEventDataOnly<LeaseEnded>().Where(e => e.TenantId == tenantId).ToListAsync(cancellationToken))
            .ToDictionary(e => e.LeaseId, e => e.EndedAt);
        return started
            .Select(s => new LedgerLease(s, new LeasePlacement(s.LeaseId, s.NodeId, s.GpuIndices, s.StartedAt, ended.TryGetValue(s.LeaseId, out var end) ? end : null)))
            .Where(l => l.Placement.StartedAt < to && (l.Placement.EndedAt is not { } end || end > from))
            .ToList();
    }
}
