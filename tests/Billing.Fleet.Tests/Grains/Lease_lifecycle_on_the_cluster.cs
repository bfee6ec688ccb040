using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Fleet.Leases;
using Billing.Fleet.Nodes;

namespace Billing.Fleet.Tests.Grains;

[Collection(FleetClusterCollection.Name)]
public sealed class Lease_lifecycle_on_the_cluster(FleetCluster cluster)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);
    private readonly FleetScenario fleet = new(cluster);

    private async Task HeartbeatsAsync(string node, int count)
    {
        for (var i = 0; i < count; i++)
        {
            fleet.Advance(Interval);
            await fleet.HeartbeatAsync(node);
        }
    }

    [Fact]
    public async Task An_on_demand_request_preempts_a_spot_lease_after_its_notice_and_accrual_stops_there()
    {
        var node = await fleet.NodeAsync(8);
        await fleet.HeartbeatAsync(node);
        var spot = await fleet.StartLeaseAsync(8, PricingModel.Spot);
        var requestedAt = fleet.Now;

        var onDemand = await fleet.StartLeaseAsync(4, PricingModel.OnDemand);
        var noticed = await fleet.LeaseAsync(spot!.LeaseId);

        Assert.Equal(LeaseState.Pending, onDemand!.State);
        Assert.Equal(requestedAt.AddSeconds(120), onDemand.StartedAt);
        Assert.Equal(LeaseState.PreemptionScheduled, noticed!.State);
        Assert.Equal(requestedAt.AddSeconds(120), noticed.PreemptAt);
        Assert.Contains(FleetCluster.Outbox.Messages, m => m is LeasePreemptionScheduled p && p.LeaseId == spot.LeaseId);

        await HeartbeatsAsync(node, 10);
        await fleet.EndLeaseAsync(onDemand.LeaseId);

        var preempted = await fleet.LeaseAsync(spot.LeaseId);
        var started = await fleet.LeaseAsync(onDemand.LeaseId);
        Assert.Equal(LeaseState.Preempted, preempted!.State);
        Assert.Equal(requestedAt.AddSeconds(120), preempted.EndedAt);
        Assert.Equal(8 * 120m, preempted.GpuSeconds);
        Assert.Equal(8 * 120m, FleetCluster.Outbox.UsageOf(spot.LeaseId).Sum(u => u.GpuSeconds));
        Assert.Equal(LeaseState.Ended, started!.State);
        Assert.Equal(4 * 30m, started.GpuSeconds);
    }

    [Fact]
    public async Task An_ended_lease_hands_over_its_last_usage_before_its_end()
    {
        var node = await fleet.NodeAsync(8);
        await fleet.HeartbeatAsync(node);
        var lease = await fleet.StartLeaseAsync(8, PricingModel.OnDemand);
        await HeartbeatsAsync(node, 5);
        var before = FleetCluster.Outbox.UsageOf(lease!.LeaseId).Count;

        await fleet.EndLeaseAsync(lease.LeaseId);

        var handedOver = FleetCluster.Outbox.InOrder.ToList();
        var ended = handedOver.FindIndex(m => m is LeaseEnded e && e.LeaseId == lease.LeaseId);
        var lastUsage = handedOver.FindLastIndex(m => m is UsageRecorded u && u.LeaseId == lease.LeaseId);
        Assert.True(FleetCluster.Outbox.UsageOf(lease.LeaseId).Count > before, "ending the lease closed no window; the test proved nothing");
        Assert.True(ended > lastUsage, $"LeaseEnded at {ended}, the lease's last usage at {lastUsage}");
    }

    [Fact]
    public async Task A_spot_request_never_preempts()
    {
        var node = await fleet.NodeAsync(2);
        await fleet.HeartbeatAsync(node);
        await fleet.StartLeaseAsync(2, PricingModel.Spot);

        Assert.Null(await fleet.StartLeaseAsync(1, PricingModel.Spot));
    }

    [Fact]
    public async Task Leases_of_an_unreachable_node_are_interrupted_at_its_last_heartbeat_after_the_grace()
    {
        var node = await fleet.NodeAsync(2);
        await fleet.HeartbeatAsync(node);
        var lease = await fleet.StartLeaseAsync(2);
        await HeartbeatsAsync(node, 2);
        var lastSeen = fleet.Now;

        fleet.Advance(TimeSpan.FromSeconds(100));
        await fleet.TickAsync(node);
        var waiting = await fleet.LeaseAsync(lease!.LeaseId);
        fleet.Advance(TimeSpan.FromSeconds(10));
        await fleet.TickAsync(node);
        var interrupted = await fleet.LeaseAsync(lease.LeaseId);

        Assert.Equal(LeaseState.Running, waiting!.State);
        Assert.Equal(LeaseState.Interrupted, interrupted!.State);
        Assert.Equal(lastSeen, interrupted.EndedAt);
        var unreachable = Assert.Single(FleetCluster.Outbox.Messages.OfType<NodeHealthChanged>(), h => h.NodeId == node && h.Health == nameof(NodeState.Unreachable));
        Assert.Equal(lastSeen + TimeSpan.FromSeconds(45), unreachable.At);
        Assert.True(interrupted.Settled);
        Assert.Equal(2 * 30m, interrupted.GpuSeconds);
    }

    [Fact]
    public async Task A_lease_whose_gpu_stays_failed_past_the_grace_is_interrupted()
    {
        var node = await fleet.NodeAsync(2);
        await fleet.HeartbeatAsync(node);
        var lease = await fleet.StartLeaseAsync(2);
        for (var i = 0; i < 22; i++)
        {
            fleet.Advance(Interval);
            await fleet.HeartbeatAsync(node, healthy: 0b01);
        }

        var interrupted = await fleet.LeaseAsync(lease!.LeaseId);
        Assert.Equal(LeaseState.Interrupted, interrupted!.State);
        Assert.True(interrupted.Settled);
        // Interrupted at the first heartbeat more than 5 min after GPU 1 failed (330 s in); GPU 1 never accrued.
        Assert.Equal(330m, interrupted.GpuSeconds);
    }

    [Fact]
    public async Task A_drained_node_takes_no_new_lease_but_keeps_its_running_ones()
    {
        var node = await fleet.NodeAsync(4);
        await fleet.HeartbeatAsync(node);
        var running = await fleet.StartLeaseAsync(2);

        await cluster.Grains.GetGrain<INodeGrain>(node).Drain();
        await HeartbeatsAsync(node, 1);

        Assert.Null(await fleet.StartLeaseAsync(1));
        Assert.Equal(LeaseState.Running, (await fleet.LeaseAsync(running!.LeaseId))!.State);
    }
}
