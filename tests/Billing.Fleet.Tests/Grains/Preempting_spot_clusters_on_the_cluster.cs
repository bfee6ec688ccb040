using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Fleet.Leases;
using Billing.Fleet.Nodes;

namespace Billing.Fleet.Tests.Grains;

[Collection(FleetClusterCollection.Name)]
public sealed class Preempting_spot_clusters_on_the_cluster(FleetCluster cluster)
{
    private static readonly TimeSpan Notice = TimeSpan.FromSeconds(120);
    private readonly FleetScenario fleet = new(cluster);

    private async Task<List<string>> NodesAsync(int count)
    {
        var nodes = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var node = await fleet.NodeAsync(8, "fabric-a");
            await fleet.HeartbeatAsync(node);
            nodes.Add(node);
        }

        return nodes;
    }

    /// <summary>Heartbeats every node every 15 s for <paramref name="count"/> intervals, then lets each act on the clock.</summary>
    private async Task HeartbeatsAsync(IReadOnlyList<string> nodes, int count)
    {
        for (var i = 0; i < count; i++)
        {
            fleet.Advance(TimeSpan.FromSeconds(15));
            await Task.WhenAll(nodes.Select(n => fleet.HeartbeatAsync(n)));
        }

        await Task.WhenAll(nodes.Select(fleet.TickAsync));
    }

    [Fact]
    public async Task An_on_demand_cluster_preempts_a_spot_cluster_whole_and_the_spot_lease_is_billed_to_its_notice_end()
    {
        var nodes = await NodesAsync(2);
        var spot = (await fleet.StartLeaseAsync(16, PricingModel.Spot))!;
        var requestedAt = fleet.Now;

        var onDemand = (await fleet.StartLeaseAsync(16, PricingModel.OnDemand))!;
        var noticed = (await fleet.LeaseAsync(spot.LeaseId))!;

        Assert.Equal((LeaseState.Pending, requestedAt + Notice), (onDemand.State, onDemand.StartedAt));
        Assert.Equal(nodes.Order(), onDemand.Nodes!.Select(n => n.NodeId).Order());
        Assert.Equal((LeaseState.PreemptionScheduled, requestedAt + Notice), (noticed.State, noticed.PreemptAt));
        Assert.Single(FleetCluster.Outbox.Messages, m => m is LeasePreemptionScheduled p && p.LeaseId == spot.LeaseId);

        await HeartbeatsAsync(nodes, 10);

        var preempted = (await fleet.LeaseAsync(spot.LeaseId))!;
        Assert.Equal((LeaseState.Preempted, requestedAt + Notice), (preempted.State, preempted.EndedAt));
        Assert.All(preempted.Nodes!, n => Assert.Equal((requestedAt + Notice, 8 * 120m), (n.LeftAt!.Value, n.GpuSeconds)));
        Assert.Equal(16 * 120m, FleetCluster.Outbox.UsageOf(spot.LeaseId).Sum(u => u.GpuSeconds));
        var running = (await fleet.LeaseAsync(onDemand.LeaseId))!;
        Assert.Equal((LeaseState.Running, 16 * 30m), (running.State, running.GpuSeconds));
        Assert.All(await Task.WhenAll(nodes.Select(fleet.NodeViewAsync)), v => Assert.Equal(8, v!.GpusLeased));
    }

    [Fact]
    public async Task A_single_node_request_preempts_a_spot_cluster_whole_with_the_same_notice()
    {
        var nodes = await NodesAsync(2);
        var spot = (await fleet.StartLeaseAsync(16, PricingModel.Spot))!;
        var requestedAt = fleet.Now;

        var onDemand = (await fleet.StartLeaseAsync(4, PricingModel.OnDemand))!;
        await HeartbeatsAsync(nodes, 9);

        var preempted = (await fleet.LeaseAsync(spot.LeaseId))!;
        Assert.Equal((LeaseState.Preempted, requestedAt + Notice), (preempted.State, preempted.EndedAt));
        Assert.All(preempted.Nodes!, n => Assert.Equal(8 * 120m, n.GpuSeconds));
        var other = nodes.Single(n => n != onDemand.NodeId);
        Assert.Equal(0, (await fleet.NodeViewAsync(other))!.GpusLeased);
        Assert.Equal(LeaseState.Running, (await fleet.LeaseAsync(onDemand.LeaseId))!.State);
    }

    [Fact]
    public async Task The_victims_that_free_the_nodes_for_the_fewest_gpu_hours_are_chosen()
    {
        var nodes = await NodesAsync(4);
        var spotCluster = (await fleet.StartLeaseAsync(16, PricingModel.Spot))!;
        var smallSpot = (await fleet.StartLeaseAsync(2, PricingModel.Spot))!;
        var reservedOnOther = (await fleet.StartLeaseAsync(16, PricingModel.Reserved))!;

        Assert.Equal(LeaseState.Pending, reservedOnOther.State);
        Assert.Equal(LeaseState.PreemptionScheduled, (await fleet.LeaseAsync(smallSpot.LeaseId))!.State);
        Assert.Equal(LeaseState.Running, (await fleet.LeaseAsync(spotCluster.LeaseId))!.State);
        var spotNodes = spotCluster.Nodes!.Select(n => n.NodeId).ToList();
        Assert.Equal(nodes.Except(spotNodes).Order(), reservedOnOther.Nodes!.Select(n => n.NodeId).Order());
    }

    [Fact]
    public async Task A_request_that_preempting_every_spot_lease_would_not_fit_preempts_nothing()
    {
        var nodes = await NodesAsync(3);
        var spot = (await fleet.StartLeaseAsync(16, PricingModel.Spot))!;
        var onDemand = (await fleet.StartLeaseAsync(4, PricingModel.OnDemand))!;

        Assert.Null(await fleet.StartLeaseAsync(24, PricingModel.OnDemand));
        Assert.Equal(LeaseState.Running, (await fleet.LeaseAsync(spot.LeaseId))!.State);
        Assert.Equal(20, (await Task.WhenAll(nodes.Select(fleet.NodeViewAsync))).Sum(v => v!.GpusLeased));
        Assert.Equal(LeaseState.Running, onDemand.State);
    }

    [Fact]
    public async Task Draining_a_node_under_a_running_cluster_lease_does_not_disturb_it()
    {
        var nodes = await NodesAsync(3);
        var lease = (await fleet.StartLeaseAsync(16))!;
        var drained = lease.Nodes![0].NodeId;

        await cluster.Grains.GetGrain<INodeGrain>(drained).Drain();
        await HeartbeatsAsync(nodes, 4);

        var running = (await fleet.LeaseAsync(lease.LeaseId))!;
        Assert.Equal((LeaseState.Running, false, 16 * 60m), (running.State, running.Degraded, running.GpuSeconds));
        Assert.All(running.Nodes!, n => Assert.Equal(LeaseNodeState.Running, n.State));
        Assert.Equal((true, 8), (await fleet.NodeViewAsync(drained)) is { } v ? (v.Drained, v.GpusLeased) : default);
        Assert.Null(await fleet.StartLeaseAsync(16));
        Assert.DoesNotContain(drained, (await fleet.StartLeaseAsync(8))!.Nodes!.Select(n => n.NodeId));
    }
}
