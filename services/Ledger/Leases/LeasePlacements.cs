using Billing.Contracts.Fleet;
using Billing.ServiceDefaults.GpuEnergy;
using Marten;

namespace Billing.Ledger.Leases;

/// <summary>A tenant's lease as the ledger's lease streams record it: its terms and where it ran, one placement per node it had.</summary>
public sealed record LedgerLease(LeaseStarted Started, IReadOnlyList<LeasePlacement> Placements);

public static class LeasePlacements
{
    /// <summary>
    /// The tenant's leases that ran at some time in [<paramref name="from"/>, <paramref name="to"/>), from their
    /// lifecycle facts: each node from the start (or, for a replacement, from the heartbeat that vouched for it) to
    /// the time it left or the lease ended. A replacement not yet vouched for has accrued nothing and has no placement.
    /// </summary>
    public static async Task<IReadOnlyList<LedgerLease>> OfTenantAsync(
        IQuerySession session, string tenantId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var started = await session.Events.QueryRawEventDataOnly<LeaseStarted>().Where(e => e.TenantId == tenantId).ToListAsync(cancellationToken);
        var ended = (await session.Events.QueryRawEventDataOnly<LeaseEnded>().Where(e => e.TenantId == tenantId).ToListAsync(cancellationToken))
            .ToDictionary(e => e.LeaseId, e => e.EndedAt);
        var left = (await session.Events.QueryRawEventDataOnly<LeaseNodeLeft>().Where(e => e.TenantId == tenantId).ToListAsync(cancellationToken))
            .ToDictionary(e => (e.LeaseId, e.NodeId), e => e.LeftAt);
        var joined = (await session.Events.QueryRawEventDataOnly<LeaseNodeJoined>().Where(e => e.TenantId == tenantId).ToListAsync(cancellationToken))
            .ToLookup(e => e.LeaseId);
        return started
            .Where(s => s.StartedAt < to && (!ended.TryGetValue(s.LeaseId, out var end) || end > from))
            .Select(s =>
            {
                var end = ended.TryGetValue(s.LeaseId, out var at) ? at : (DateTimeOffset?)null;
                var nodes = (s.Nodes ?? [new LeaseNode(s.NodeId, null, s.GpuIndices)]).Select(n => (Node: n, From: s.StartedAt))
                    .Concat(joined[s.LeaseId].Select(j => (j.Node, From: j.AccruesFrom)));
                return new LedgerLease(s, nodes
                    .Select(n => new LeasePlacement(s.LeaseId, n.Node.NodeId, n.Node.GpuIndices, n.From, left.TryGetValue((s.LeaseId, n.Node.NodeId), out var leftAt) ? leftAt : end))
                    .ToList());
            })
            .ToList();
    }
}
