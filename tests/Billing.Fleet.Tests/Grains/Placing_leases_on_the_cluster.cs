namespace Billing.Fleet.Tests.Grains;

[Collection(FleetClusterCollection.Name)]
public sealed class Placing_leases_on_the_cluster(FleetCluster cluster)
{
    private readonly FleetScenario fleet = new(cluster);

    [Fact]
    public async Task Concurrent_requests_never_share_a_gpu()
    {
        var nodes = new[] { await fleet.NodeAsync(8), await fleet.NodeAsync(4) };
        foreach (var node in nodes)
        {
            await fleet.HeartbeatAsync(node);
        }

        var leases = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => fleet.StartLeaseAsync(1)));

        var placed = leases.OfType<Billing.Fleet.Leases.LeaseView>().ToList();
        Assert.Equal(12, placed.Count);
        Assert.Equal(12, placed.SelectMany(l => l.GpuIndices.Select(g => (l.NodeId, g))).Distinct().Count());
    }

    [Fact]
    public async Task Best_fit_takes_the_node_with_the_fewest_free_gpus_that_fit()
    {
        var big = await fleet.NodeAsync(8);
        var small = await fleet.NodeAsync(2);
        await fleet.HeartbeatAsync(big);
        await fleet.HeartbeatAsync(small);

        var lease = await fleet.StartLeaseAsync(2);

        Assert.Equal(small, lease!.NodeId);
    }

    [Fact]
    public async Task An_unreachable_node_takes_no_lease_and_an_ended_lease_frees_its_gpus()
    {
        var node = await fleet.NodeAsync(2);
        await fleet.HeartbeatAsync(node);
        var first = await fleet.StartLeaseAsync(2);
        Assert.Null(await fleet.StartLeaseAsync(1));

        await fleet.EndLeaseAsync(first!.LeaseId);
        Assert.NotNull(await fleet.StartLeaseAsync(2));

        fleet.Advance(TimeSpan.FromSeconds(46));
        Assert.Null(await fleet.StartLeaseAsync(1));
    }
}
