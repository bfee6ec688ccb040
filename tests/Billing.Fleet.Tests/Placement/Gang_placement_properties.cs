using Billing.Fleet.Placement;
using FsCheck.Xunit;

namespace Billing.Fleet.Tests.Placement;

/// <summary>Invariants of gang placement over random fleets and requests (FsCheck picks the seeds).</summary>
public sealed class Gang_placement_properties
{
    private const int Size = 8;

    private sealed record Case(List<PoolNode> Nodes, int GpuCount, string? Fabric);

    /// <summary>1 to 4 fabrics of up to 6 racks of up to 6 nodes, a third of them partly taken; a request of 1 GPU to 20 nodes.</summary>
    private static Case Generate(int seed)
    {
        var random = new Random(seed);
        var nodes = new List<PoolNode>();
        for (var f = random.Next(1, 5); f > 0; f--)
        {
            for (var r = random.Next(1, 7); r > 0; r--)
            {
                for (var n = random.Next(0, 7); n > 0; n--)
                {
                    var rack = random.Next(6) == 0 ? null : $"f{f}-r{r}";
                    nodes.Add(new PoolNode($"f{f}-r{r}-n{n}", $"f{f}", rack, Size, random.Next(3) == 0 ? random.Next(0, Size) : Size));
                }
            }
        }

        var count = random.Next(2) == 0 ? random.Next(1, Size + 1) : random.Next(2, 21) * Size;
        return new Case(nodes, count, random.Next(4) == 0 ? $"f{random.Next(1, 5)}" : null);
    }

    private static GangPlan Plan(Case c) => GangPlacement.Plan(c.Nodes, c.GpuCount, c.Fabric);

    [Property(MaxTest = 300)]
    public bool A_plan_is_all_or_nothing_and_never_overcommits_a_node(int seed)
    {
        var c = Generate(seed);
        var plan = Plan(c);
        var byId = c.Nodes.ToDictionary(n => n.NodeId);
        return !plan.Placed
            || (plan.Nodes.Sum(n => n.GpuCount) == c.GpuCount
                && plan.Nodes.Select(n => n.NodeId).Distinct().Count() == plan.Nodes.Count
                && plan.Nodes.All(n => n.GpuCount <= byId[n.NodeId].Free));
    }

    [Property(MaxTest = 300)]
    public bool A_plan_stays_in_one_fabric_the_named_one_if_any(int seed)
    {
        var c = Generate(seed);
        var plan = Plan(c);
        var byId = c.Nodes.ToDictionary(n => n.NodeId);
        return !plan.Placed
            || (plan.Nodes.All(n => byId[n.NodeId].Fabric == plan.Fabric) && (c.Fabric is null || plan.Fabric == c.Fabric));
    }

    [Property(MaxTest = 300)]
    public bool A_refusal_happens_only_when_no_fabric_could_take_the_request(int seed)
    {
        var c = Generate(seed);
        var plan = Plan(c);
        var largest = GangPlacement.LargestByFabric(c.Nodes.Where(n => c.Fabric is null || n.Fabric == c.Fabric), Size);
        return plan.Placed == largest.Values.Any(v => v >= c.GpuCount)
            && (plan.Placed || plan.LargestByFabric.SequenceEqual(largest));
    }

    [Property(MaxTest = 300)]
    public bool A_cluster_uses_the_fewest_racks_its_fabric_allows(int seed)
    {
        var c = Generate(seed);
        var plan = Plan(c);
        if (!plan.Placed || c.GpuCount <= Size)
        {
            return true;
        }

        var racksUsed = plan.Nodes.Select(n => n.Rack ?? n.NodeId).Distinct().Count();
        var freeByRack = c.Nodes.Where(n => n.Fabric == plan.Fabric && n.WhollyFree)
            .GroupBy(n => n.Rack ?? n.NodeId).Select(g => g.Count()).OrderByDescending(x => x).ToList();
        var fewest = 0;
        for (var taken = 0; taken < c.GpuCount / Size; fewest++)
        {
            taken += freeByRack[fewest];
        }

        return racksUsed == fewest;
    }

    [Property(MaxTest = 300)]
    public bool A_cluster_goes_to_the_fitting_fabric_with_the_fewest_free_nodes(int seed)
    {
        var c = Generate(seed);
        var plan = Plan(c);
        if (!plan.Placed || c.GpuCount <= Size)
        {
            return true;
        }

        var wholeFree = c.Nodes.Where(n => n.WhollyFree && (c.Fabric is null || n.Fabric == c.Fabric))
            .GroupBy(n => n.Fabric).ToDictionary(g => g.Key, g => g.Count());
        return wholeFree.Where(f => f.Value * Size >= c.GpuCount).Min(f => f.Value) == wholeFree[plan.Fabric!];
    }
}
