using Billing.Contracts.Fleet;
using Billing.Fleet.Leases;

namespace Billing.Fleet.Tests.Grains;

[Collection(FleetClusterCollection.Name)]
public sealed class Placing_gangs_on_the_cluster(FleetCluster cluster)
{
    private readonly FleetScenario fleet = new(cluster);

    private async Task<List<string>> NodesAsync(int count, string fabric = "fabric-a", string? rack = null)
    {
        var nodes = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var node = await fleet.NodeAsync(8, fabric, rack);
            await fleet.HeartbeatAsync(node);
            nodes.Add(node);
        }

        return nodes;
    }

    [Fact]
    public async Task Concurrent_large_and_small_placements_never_hand_out_a_gpu_twice()
    {
        var nodes = await NodesAsync(8);
        var sizes = new[] { 16, 2, 24, 1, 16, 3, 8, 32, 4, 16, 1, 2 };

        var leases = await Task.WhenAll(sizes.Select(size => fleet.StartLeaseAsync(size)));

        var placed = leases.OfType<LeaseView>().ToList();
        var gpus = placed.SelectMany(l => l.Nodes!.SelectMany(n => n.GpuIndices.Select(g => (n.NodeId, g)))).ToList();
        Assert.Equal(gpus.Count, gpus.Distinct().Count());
        Assert.All(placed, l => Assert.Equal(l.GpuCount, l.Nodes!.Sum(n => n.GpuIndices.Count)));
        var views = await Task.WhenAll(nodes.Select(fleet.NodeViewAsync));
        Assert.Equal(gpus.Count, views.Sum(v => v!.GpusLeased));

        // Nothing is released here, so free capacity only shrinks: a request refused at any moment cannot fit the end state.
        var free = views.Select(v => 8 - v!.GpusLeased).ToList();
        var refused = sizes.Where((_, i) => leases[i] is null).ToList();
        Assert.All(refused, size => Assert.False(
            size <= 8 ? free.Any(f => f >= size) : free.Count(f => f == 8) * 8 >= size,
            $"a request for {size} GPUs was refused although the nodes have {string.Join(", ", free)} free"));
    }

    [Fact]
    public async Task A_node_that_refuses_midway_leaves_nothing_taken_and_the_gang_goes_elsewhere()
    {
        var nodes = await NodesAsync(3);

        // Drained behind the pool's back: its cache still counts the node free, so the plan includes it and the node refuses.
        await cluster.Grains.GetGrain<Billing.Fleet.Nodes.INodeGrain>(nodes[0]).Drain();
        var refused = await fleet.StartLeaseAsync(24);

        Assert.Null(refused);
        Assert.All(await Task.WhenAll(nodes.Select(fleet.NodeViewAsync)), v => Assert.Equal(0, v!.GpusLeased));
        var placed = await fleet.StartLeaseAsync(16);
        Assert.Equal(nodes[1..].Order(), placed!.Nodes!.Select(n => n.NodeId).Order());
    }

    [Fact]
    public async Task A_lost_node_is_replaced_and_its_replacement_accrues_from_its_first_heartbeat()
    {
        var nodes = await NodesAsync(3);
        var lease = (await fleet.StartLeaseAsync(16))!;
        var (lost, kept) = (lease.Nodes![0].NodeId, lease.Nodes[1].NodeId);
        var spare = nodes.Single(n => n != lost && n != kept);
        fleet.Advance(TimeSpan.FromSeconds(15));
        await Task.WhenAll(nodes.Select(n => fleet.HeartbeatAsync(n)));
        var lastOfLost = fleet.Now;
        for (var i = 0; i < 8; i++)
        {
            fleet.Advance(TimeSpan.FromSeconds(15));
            await fleet.HeartbeatAsync(kept);
            await fleet.HeartbeatAsync(spare);
        }

        await fleet.TickAsync(lost);
        var replaced = await fleet.LeaseWhenAsync(lease.LeaseId, l => l.Nodes!.Count == 3);
        fleet.Advance(TimeSpan.FromSeconds(5));
        await fleet.HeartbeatAsync(spare);
        var vouchedAt = fleet.Now;
        fleet.Advance(TimeSpan.FromSeconds(15));
        await fleet.HeartbeatAsync(spare);
        var running = (await fleet.LeaseAsync(lease.LeaseId))!;

        Assert.True(replaced.Degraded is false && running.State == LeaseState.Running);
        var failed = running.Nodes!.Single(n => n.NodeId == lost);
        Assert.Equal((LeaseNodeState.Failed, lastOfLost), (failed.State, failed.LeftAt));
        Assert.Equal(8 * 15m, failed.GpuSeconds);
        var joined = running.Nodes!.Single(n => n.NodeId == spare);
        Assert.Equal((LeaseNodeState.Running, vouchedAt), (joined.State, joined.AccruesFrom));
        Assert.Equal(8 * 15m, joined.GpuSeconds);
        Assert.Equal(0, (await fleet.NodeViewAsync(lost))!.GpusLeased);
        Assert.Single(FleetCluster.Outbox.Messages, m => m is LeaseNodeLeft { State: "Failed" } l && l.LeaseId == lease.LeaseId && l.NodeId == lost && l.LeftAt == lastOfLost);
        Assert.Single(FleetCluster.Outbox.Messages, m => m is LeaseNodeReplaced r && r.LeaseId == lease.LeaseId && r.FailedNodeId == lost && r.Node.NodeId == spare);
    }

    [Fact]
    public async Task Shrink_goes_on_degraded_and_end_interrupts_the_whole_lease()
    {
        var nodes = await NodesAsync(4);
        var shrinking = (await fleet.StartLeaseAsync(16, onNodeFailure: NodeFailurePolicy.Shrink))!;
        var ending = (await fleet.StartLeaseAsync(16, onNodeFailure: NodeFailurePolicy.End))!;
        var lost = new[] { shrinking.Nodes![0].NodeId, ending.Nodes![0].NodeId };
        for (var i = 0; i < 8; i++)
        {
            fleet.Advance(TimeSpan.FromSeconds(15));
            foreach (var node in nodes.Except(lost))
            {
                await fleet.HeartbeatAsync(node);
            }
        }

        await Task.WhenAll(lost.Select(fleet.TickAsync));

        var shrunk = (await fleet.LeaseAsync(shrinking.LeaseId))!;
        Assert.Equal((LeaseState.Running, true), (shrunk.State, shrunk.Degraded));
        Assert.Equal([LeaseNodeState.Failed, LeaseNodeState.Running], shrunk.Nodes!.Select(n => n.State));
        var ended = (await fleet.LeaseAsync(ending.LeaseId))!;
        Assert.Equal(LeaseState.Interrupted, ended.State);
        Assert.Equal(LeaseNodeState.Failed, ended.Nodes!.Single(n => n.NodeId == lost[1]).State);
        Assert.Equal(ended.EndedAt, ended.Nodes!.Max(n => n.LeftAt));
        Assert.Equal(8, (await Task.WhenAll(nodes.Select(fleet.NodeViewAsync))).Sum(v => v!.GpusLeased));
    }
}
