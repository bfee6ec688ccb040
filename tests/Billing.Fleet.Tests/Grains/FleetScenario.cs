using Billing.Contracts;
using Billing.Fleet.Leases;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.Fleet.Placement;

namespace Billing.Fleet.Tests.Grains;

/// <summary>Drives grains the way the API does, on the cluster's fake clock.</summary>
public sealed class FleetScenario(FleetCluster cluster)
{
    private readonly Dictionary<string, int> gpusOf = [];

    public string Sku { get; } = $"TEST-{Guid.NewGuid():N}"[..13];

    public DateTimeOffset Now => FleetCluster.Time.GetUtcNow();

    public async Task<string> NodeAsync(int gpus = 8, string? fabric = null, string? rack = null)
    {
        var nodeId = $"node-{Guid.NewGuid():N}"[..17];
        var view = await cluster.Grains.GetGrain<INodeGrain>(nodeId).Register(new NodeSpec(Sku, gpus, "test-1", fabric, rack));
        await cluster.Grains.GetGrain<ISkuPoolGrain>(Sku).AddNode(view!);
        gpusOf[nodeId] = gpus;
        return nodeId;
    }

    /// <summary>A heartbeat reporting every GPU of the node, healthy unless <paramref name="healthy"/> says otherwise.</summary>
    public async Task HeartbeatAsync(string nodeId, ulong? healthy = null)
    {
        var all = NodeHealth.AllGpus(gpusOf[nodeId]);
        var admission = await cluster.Grains.GetGrain<INodeGrain>(nodeId)
            .RecordHeartbeat(new HeartbeatSample(MeteringRules.ToMillisecond(Now), healthy ?? all), all);
        Assert.Equal(HeartbeatAdmission.Accepted, admission);
    }

    public void Advance(TimeSpan by) => FleetCluster.Time.Advance(by);

    public async Task<LeaseView?> StartLeaseAsync(
        int gpus, PricingModel pricing = PricingModel.OnDemand, string tenantId = "tenant-a", NodeFailurePolicy onNodeFailure = NodeFailurePolicy.Replace)
    {
        var leaseId = Guid.NewGuid();
        var placement = await cluster.Grains.GetGrain<ISkuPoolGrain>(Sku).Place(leaseId, gpus, pricing);
        return placement.Allocation is { } allocation
            ? await cluster.Grains.GetGrain<ILeaseGrain>(leaseId).Start(new LeaseSpec(
                tenantId, allocation.NodeId, Sku, pricing, allocation.GpuIndices, allocation.StartsAt, placement.Allocations, placement.Fabric, onNodeFailure))
            : null;
    }

    public Task TickAsync(string nodeId) => cluster.Grains.GetGrain<INodeGrain>(nodeId).Tick();

    public Task<LeaseView?> EndLeaseAsync(Guid leaseId) => cluster.Grains.GetGrain<ILeaseGrain>(leaseId).End();

    public Task<LeaseView?> LeaseAsync(Guid leaseId) => cluster.Grains.GetGrain<ILeaseGrain>(leaseId).Get();

    public Task<NodeView?> NodeViewAsync(string nodeId) => cluster.Grains.GetGrain<INodeGrain>(nodeId).Get();

    /// <summary>Asks again until the lease is as <paramref name="wanted"/> says (one-way calls finish after their caller); fails after 30 s.</summary>
    public async Task<LeaseView> LeaseWhenAsync(Guid leaseId, Func<LeaseView, bool> wanted)
    {
        for (var waited = TimeSpan.Zero; waited < TimeSpan.FromSeconds(30); waited += TimeSpan.FromMilliseconds(50))
        {
            if (await LeaseAsync(leaseId) is { } view && wanted(view))
            {
                return view;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Lease {leaseId} never got there: {await LeaseAsync(leaseId)}");
    }
}
