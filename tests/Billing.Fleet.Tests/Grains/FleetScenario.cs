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

    public async Task<string> NodeAsync(int gpus = 8)
    {
        var nodeId = $"node-{Guid.NewGuid():N}"[..17];
        await cluster.Grains.GetGrain<INodeGrain>(nodeId).Register(new NodeSpec(Sku, gpus, "test-1"));
        await cluster.Grains.GetGrain<ISkuPoolGrain>(Sku).AddNode(nodeId, gpus);
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

    public async Task<LeaseView?> StartLeaseAsync(int gpus, PricingModel pricing = PricingModel.OnDemand, string tenantId = "tenant-a")
    {
        var leaseId = Guid.NewGuid();
        var placement = await cluster.Grains.GetGrain<ISkuPoolGrain>(Sku).Place(leaseId, gpus, pricing);
        return placement.Allocation is { } allocation
            ? await cluster.Grains.GetGrain<ILeaseGrain>(leaseId).Start(new LeaseSpec(tenantId, allocation.NodeId, Sku, pricing, allocation.GpuIndices, allocation.StartsAt))
            : null;
    }

    public Task TickAsync(string nodeId) => cluster.Grains.GetGrain<INodeGrain>(nodeId).Tick();

    public Task<LeaseView?> EndLeaseAsync(Guid leaseId) => cluster.Grains.GetGrain<ILeaseGrain>(leaseId).End();

    public Task<LeaseView?> LeaseAsync(Guid leaseId) => cluster.Grains.GetGrain<ILeaseGrain>(leaseId).Get();
}
