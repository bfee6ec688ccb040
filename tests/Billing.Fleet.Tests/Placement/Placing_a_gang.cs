using Billing.Fleet.Placement;

namespace Billing.Fleet.Tests.Placement;

public sealed class Placing_a_gang
{
    private static PoolNode Node(string id, string fabric = "f1", string? rack = null, int free = 8) => new(id, fabric, rack, 8, free);

    [Fact]
    public void Up_to_one_node_takes_the_best_fitting_node()
    {
        var plan = GangPlacement.Plan([Node("a", free: 8), Node("b", free: 3), Node("c", free: 2)], 3);

        Assert.Equal("b", Assert.Single(plan.Nodes).NodeId);
        Assert.Equal(3, plan.Nodes[0].GpuCount);
    }

    [Fact]
    public void Beyond_one_node_takes_whole_free_nodes_of_one_fabric()
    {
        var plan = GangPlacement.Plan([Node("a"), Node("b", free: 7), Node("c"), Node("d", fabric: "f2")], 16);

        Assert.Equal("f1", plan.Fabric);
        Assert.Equal(["a", "c"], plan.Nodes.Select(n => n.NodeId));
        Assert.All(plan.Nodes, n => Assert.Equal(8, n.GpuCount));
    }

    [Fact]
    public void A_count_that_is_not_a_multiple_of_the_node_size_is_refused_saying_so()
    {
        Assert.Contains("not a multiple of 8", GangPlacement.ShapeError(12, 8));
        Assert.Null(GangPlacement.ShapeError(5, 8));
        Assert.Null(GangPlacement.ShapeError(24, 8));
        Assert.False(GangPlacement.Plan([Node("a"), Node("b")], 12).Placed);
    }

    [Fact]
    public void The_fabric_that_fits_most_tightly_is_chosen()
    {
        var nodes = new[] { Node("a1", "big"), Node("a2", "big"), Node("a3", "big"), Node("b1", "small"), Node("b2", "small") };

        var plan = GangPlacement.Plan(nodes, 16);

        Assert.Equal("small", plan.Fabric);
        Assert.Equal("big", GangPlacement.Plan(nodes, 24).Fabric);
    }

    [Fact]
    public void A_named_fabric_is_the_only_one_considered()
    {
        var nodes = new[] { Node("a1", "big"), Node("a2", "big"), Node("a3", "big"), Node("b1", "small"), Node("b2", "small") };

        Assert.Equal("big", GangPlacement.Plan(nodes, 16, fabric: "big").Fabric);
        Assert.False(GangPlacement.Plan(nodes, 24, fabric: "small").Placed);
    }

    [Fact]
    public void Racks_are_packed_whole_and_the_rest_goes_to_the_tightest_rack()
    {
        var nodes = new[]
        {
            Node("r1-a", rack: "r1"), Node("r1-b", rack: "r1"), Node("r1-c", rack: "r1"),
            Node("r2-a", rack: "r2"), Node("r2-b", rack: "r2"),
            Node("r3-a", rack: "r3"),
        };

        Assert.Equal(["r2-a", "r2-b"], GangPlacement.Plan(nodes, 16).Nodes.Select(n => n.NodeId));
        Assert.Equal(["r1-a", "r1-b", "r1-c", "r3-a"], GangPlacement.Plan(nodes, 32).Nodes.Select(n => n.NodeId));
    }

    [Fact]
    public void A_refusal_names_per_fabric_the_largest_lease_that_fits()
    {
        var nodes = new[] { Node("a1", "f1"), Node("a2", "f1", free: 5), Node("b1", "f2", free: 6), Node("b2", "f2", free: 0) };

        var plan = GangPlacement.Plan(nodes, 24);

        Assert.False(plan.Placed);
        Assert.Equal(new Dictionary<string, int> { ["f1"] = 8, ["f2"] = 6 }, plan.LargestByFabric);
    }

    [Fact]
    public void Excluded_nodes_are_never_chosen()
    {
        var plan = GangPlacement.Plan([Node("a"), Node("b"), Node("c")], 8, fabric: "f1", exclude: new HashSet<string> { "a" });

        Assert.Equal("b", Assert.Single(plan.Nodes).NodeId);
    }
}
