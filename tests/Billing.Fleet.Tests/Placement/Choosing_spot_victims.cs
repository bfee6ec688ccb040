using Billing.Fleet.Placement;

namespace Billing.Fleet.Tests.Placement;

public sealed class Choosing_spot_victims
{
    private static readonly Guid Cluster = new("00000000-0000-0000-0000-0000000000c1");
    private static readonly Guid Small = new("00000000-0000-0000-0000-0000000000a1");
    private static readonly Guid Other = new("00000000-0000-0000-0000-0000000000a2");
    private static readonly Guid OnDemand = new("00000000-0000-0000-0000-0000000000d1");

    private static NodeHolding Node(string id, string fabric = "f1", bool whole = true, params LeaseOnNode[] leases) => new(id, fabric, null, 8, whole, leases);

    private static LeaseOnNode Spot(Guid id, int gpus) => new(id, gpus, Preemptable: true);

    [Fact]
    public void Small_spot_leases_go_before_a_spot_cluster_that_would_cost_more()
    {
        var nodes = new[]
        {
            Node("c1", leases: Spot(Cluster, 8)), Node("c2", leases: Spot(Cluster, 8)),
            Node("s1", leases: Spot(Small, 2)), Node("s2", leases: Spot(Other, 3)),
        };

        var plan = SpotVictims.Choose(nodes, 2)!;

        Assert.Equal(["s1", "s2"], plan.Nodes.Select(n => n.NodeId).Order());
        Assert.Equal([Small, Other], plan.Victims.Order());
        Assert.Equal(5, plan.GpusTaken);
    }

    [Fact]
    public void A_spot_cluster_is_taken_whole_when_it_frees_the_nodes_most_cheaply()
    {
        var nodes = new[]
        {
            Node("c1", leases: Spot(Cluster, 8)), Node("c2", leases: Spot(Cluster, 8)), Node("free"),
            Node("s1", leases: [Spot(Small, 4), Spot(Other, 4)]),
        };

        var plan = SpotVictims.Choose(nodes, 3)!;

        Assert.Equal([Cluster], plan.Victims);
        Assert.Equal(16, plan.GpusTaken);
        Assert.Equal(["c1", "c2", "free"], plan.Nodes.Select(n => n.NodeId).Order());
    }

    [Fact]
    public void Nodes_held_by_on_demand_leases_unhealthy_or_drained_nodes_are_never_freed()
    {
        var nodes = new[]
        {
            Node("d", leases: [Spot(Small, 4), new LeaseOnNode(OnDemand, 4, Preemptable: false)]),
            Node("sick", whole: false, leases: Spot(Other, 8)),
            Node("s", leases: Spot(Cluster, 8)),
        };

        Assert.Null(SpotVictims.Choose(nodes, 2));
        Assert.Equal([Cluster], SpotVictims.Choose(nodes, 1)!.Victims);
    }

    [Fact]
    public void A_cluster_stays_in_one_fabric_the_cheapest_or_the_named_one()
    {
        var nodes = new[]
        {
            Node("a1", "fa", leases: Spot(Cluster, 8)), Node("a2", "fa", leases: Spot(Cluster, 8)),
            Node("b1", "fb", leases: Spot(Small, 1)), Node("b2", "fb"), Node("c1", "fc"),
        };

        Assert.Equal(("fb", 1), SpotVictims.Choose(nodes, 2) is { } p ? (p.Fabric, p.GpusTaken) : default);
        Assert.Equal(("fa", 16), SpotVictims.Choose(nodes, 2, "fa") is { } q ? (q.Fabric, q.GpusTaken) : default);
        Assert.Null(SpotVictims.Choose(nodes, 2, "fc"));
    }
}
