using Billing.ServiceDefaults.Jobs;
using Marten;

namespace Billing.Fleet.Nodes;

/// <summary>
/// Ticks every node on the server clock, so a node that stopped posting heartbeats (and so never
/// ticks itself) still has its leases interrupted, and due preemptions complete.
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
    }
}
