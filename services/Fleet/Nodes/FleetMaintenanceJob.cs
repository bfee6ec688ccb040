using Billing.Fleet.Leases;
using Billing.Fleet.Placement;
using Billing.ServiceDefaults.Jobs;
using Marten;

namespace Billing.Fleet.Nodes;

/// <summary>
/// Ticks every node on the server clock, so a node that stopped posting heartbeats (and so never
/// ticks itself) still has its leases interrupted, and due preemptions complete; then retries the
/// replacement of every degraded lease's lost nodes.
/// </summary>
public sealed class FleetMaintenanceJob(IGrainFactory grains, IQuerySession session) : IBillingJob
{
    public const string Id = "fleet-maintenance";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var nodeIds = await session.Query<NodeRegistration>().Select(n => n.Id).ToListAsync(cancellationToken);
        foreach (var chunk in nodeIds.Chunk(64))
        {
            await Task.WhenAll(chunk.Select(id => grains.GetGrain<INodeGrain>(id).Tick()));
        }

        var degraded = await session.Query<LeaseRecord>().Where(l => l.Degraded && l.OnNodeFailure == NodeFailurePolicy.Replace).ToListAsync(cancellationToken);
        foreach (var lease in degraded)
        {
            await grains.GetGrain<ISkuPoolGrain>(lease.Sku).Replace(lease.Id);
        }
    }
}
