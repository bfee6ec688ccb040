using Billing.Fleet.Placement;
using FsCheck.Xunit;

namespace Billing.Fleet.Tests.Placement;

/// <summary>Invariants of the spot victims' choice over small random fabrics, checked against every set of victims.</summary>
public sealed class Spot_victim_properties
{
    private const int Size = 8;

    private sealed record Case(List<NodeHolding> Nodes, int Wanted);

    /// <summary>
    /// 1 to 2 fabrics of up to 5 nodes; each node free, held by one spot cluster of 2 or 3 nodes, or
    /// by up to 2 small leases (a quarter of them on demand); a tenth of the nodes cannot be whole.
    /// </summary>
    private static Case Generate(int seed)
    {
        var random = new Random(seed);
        var nodes = new List<NodeHolding>();
        for (var f = random.Next(1, 3); f > 0; f--)
        {
            var count = random.Next(1, 6);
            for (var n = 0; n < count;)
            {
                var whole = random.Next(10) != 0;
                var span = Math.Min(count - n, random.Next(2, 4));
                if (random.Next(4) == 0 && span > 1)
                {
                    var cluster = Guid.NewGuid();
                    for (var i = 0; i < span; i++, n++)
                    {
                        nodes.Add(new NodeHolding($"f{f}-n{n}", $"f{f}", null, Size, whole, [new LeaseOnNode(cluster, Size, true)]));
                    }

                    continue;
                }

                var leases = Enumerable.Range(0, random.Next(0, 3)).Select(_ => new LeaseOnNode(Guid.NewGuid(), random.Next(1, 3), random.Next(4) != 0)).ToList();
                nodes.Add(new NodeHolding($"f{f}-n{n}", $"f{f}", null, Size, whole, leases));
                n++;
            }
        }

        return new Case(nodes, random.Next(1, 5));
    }

    private static Dictionary<Guid, int> Costs(Case c) =>
        c.Nodes.SelectMany(n => n.Leases).GroupBy(l => l.LeaseId).ToDictionary(g => g.Key, g => g.Sum(l => l.Gpus));

    /// <summary>The nodes of a fabric that a set of victims frees (free nodes count too).</summary>
    private static List<NodeHolding> Freed(Case c, string fabric, IReadOnlySet<Guid> victims) =>
        c.Nodes.Where(n => n.Fabric == fabric && n.Whole && n.Leases.All(l => l.Preemptable && victims.Contains(l.LeaseId))).ToList();

    [Property(MaxTest = 300)]
    public bool Victims_are_spot_leases_and_free_the_nodes_wanted_in_one_fabric(int seed)
    {
        var c = Generate(seed);
        if (SpotVictims.Choose(c.Nodes, c.Wanted) is not { } plan)
        {
            return true;
        }

        var victims = plan.Victims.ToHashSet();
        var preemptable = c.Nodes.SelectMany(n => n.Leases).Where(l => l.Preemptable).Select(l => l.LeaseId).ToHashSet();
        var freed = Freed(c, plan.Fabric, victims).Select(n => n.NodeId).ToHashSet();
        var costs = Costs(c);
        return victims.IsSubsetOf(preemptable)
            && plan.Nodes.Count == c.Wanted
            && plan.Nodes.All(n => freed.Contains(n.NodeId))
            && plan.GpusTaken == victims.Sum(v => costs[v]);
    }

    [Property(MaxTest = 300)]
    public bool No_set_of_victims_frees_the_nodes_for_fewer_gpus(int seed)
    {
        var c = Generate(seed);
        var plan = SpotVictims.Choose(c.Nodes, c.Wanted);
        var costs = Costs(c);
        int? cheapest = null;
        foreach (var fabric in c.Nodes.Select(n => n.Fabric).Distinct())
        {
            var leases = c.Nodes.Where(n => n.Fabric == fabric).SelectMany(n => n.Leases).Where(l => l.Preemptable).Select(l => l.LeaseId).Distinct().ToList();
            for (var subset = 0; subset < 1 << leases.Count; subset++)
            {
                var victims = leases.Where((_, i) => (subset & (1 << i)) != 0).ToHashSet();
                if (Freed(c, fabric, victims).Count >= c.Wanted)
                {
                    var cost = victims.Sum(v => costs[v]);
                    cheapest = cheapest is null ? cost : Math.Min(cheapest.Value, cost);
                }
            }
        }

        return plan?.GpusTaken == cheapest;
    }
}
