namespace Billing.Fleet.Placement;

/// <summary>One lease's GPUs on a node, and whether it may be preempted now (spot, running, not under notice).</summary>
[GenerateSerializer, Immutable]
public sealed record LeaseOnNode([property: Id(0)] Guid LeaseId, [property: Id(1)] int Gpus, [property: Id(2)] bool Preemptable);

/// <summary>
/// A node as preemption sees it: <see cref="Whole"/> when it would take a whole-node lease once its
/// leases were gone (reachable, not drained, every GPU healthy), and the leases that hold it now.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record NodeHolding(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string Fabric,
    [property: Id(2)] string? Rack,
    [property: Id(3)] int GpuCount,
    [property: Id(4)] bool Whole,
    [property: Id(5)] IReadOnlyList<LeaseOnNode> Leases);

/// <summary>The nodes a cluster lease takes, and the spot leases preempted (whole) to free them, costing <see cref="GpusTaken"/>.</summary>
public sealed record PreemptionPlan(string Fabric, IReadOnlyList<PlannedNode> Nodes, IReadOnlyList<Guid> Victims, int GpusTaken);

/// <summary>
/// Which spot leases an on-demand or reserved cluster request preempts, a pure rule. A node can be
/// freed when it is <see cref="NodeHolding.Whole"/>, of the SKU's node size, and every lease on it is
/// preemptable; a victim is preempted whole, on every node it holds, so its cost is all its GPUs (the
/// GPU-hours it loses per hour, the notice being the same for all). Per fabric, the cheapest set of
/// victims that frees the nodes wanted: nodes that share a victim form one item (freed together),
/// and a covering knapsack over the items finds the least cost, ties to fewer victims. Exact because
/// a lease of more than one node holds its nodes wholly, so an item is one node or one cluster lease's
/// nodes. The fabric that costs least wins (ties: fewer victims, then by name); in it the gang packs
/// racks as <see cref="GangPlacement"/> does.
/// </summary>
public static class SpotVictims
{
    private sealed record Item(IReadOnlyList<NodeHolding> Nodes, IReadOnlyList<Guid> Victims, int Cost);

    public static PreemptionPlan? Choose(IReadOnlyCollection<NodeHolding> nodes, int wantedNodes, string? fabric = null)
    {
        var size = nodes.Select(n => n.GpuCount).DefaultIfEmpty(0).Max();
        if (wantedNodes < 1 || size == 0)
        {
            return null;
        }

        var cost = nodes.SelectMany(n => n.Leases).GroupBy(l => l.LeaseId).ToDictionary(g => g.Key, g => g.Sum(l => l.Gpus));
        return nodes.Where(n => fabric is null || n.Fabric == fabric)
            .GroupBy(n => n.Fabric)
            .Select(g => InFabric(g.Key, g.ToList(), wantedNodes, size, cost))
            .OfType<PreemptionPlan>()
            .OrderBy(p => p.GpusTaken).ThenBy(p => p.Victims.Count).ThenBy(p => p.Fabric, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    private static PreemptionPlan? InFabric(string fabric, List<NodeHolding> nodes, int wanted, int size, Dictionary<Guid, int> cost)
    {
        var freeable = nodes.Where(n => n.Whole && n.GpuCount == size && n.Leases.All(l => l.Preemptable)).ToList();
        var items = Items(freeable, cost);
        if (items.Sum(i => i.Nodes.Count) < wanted)
        {
            return null;
        }

        var chosen = Cheapest(items, wanted);
        var freed = chosen.SelectMany(i => i.Nodes).Select(n => new PoolNode(n.NodeId, fabric, n.Rack, size, size)).ToList();
        var gang = GangPlacement.Plan(freed, wanted * size);
        var victims = chosen.SelectMany(i => i.Victims).Order().ToList();
        return new PreemptionPlan(fabric, gang.Nodes, victims, chosen.Sum(i => i.Cost));
    }

    /// <summary>Nodes joined by the leases they share (union-find over lease ids), ordered by their first node for determinism.</summary>
    private static List<Item> Items(List<NodeHolding> freeable, Dictionary<Guid, int> cost)
    {
        var parent = Enumerable.Range(0, freeable.Count).ToArray();
        int Root(int i) => parent[i] == i ? i : parent[i] = Root(parent[i]);
        var firstHolder = new Dictionary<Guid, int>();
        for (var i = 0; i < freeable.Count; i++)
        {
            foreach (var lease in freeable[i].Leases)
            {
                if (firstHolder.TryGetValue(lease.LeaseId, out var other))
                {
                    parent[Root(i)] = Root(other);
                }
                else
                {
                    firstHolder[lease.LeaseId] = i;
                }
            }
        }

        return Enumerable.Range(0, freeable.Count).GroupBy(Root)
            .Select(g =>
            {
                var group = g.Select(i => freeable[i]).OrderBy(n => n.NodeId, StringComparer.Ordinal).ToList();
                var victims = group.SelectMany(n => n.Leases).Select(l => l.LeaseId).Distinct().ToList();
                return new Item(group, victims, victims.Sum(v => cost[v]));
            })
            .OrderBy(i => i.Nodes[0].NodeId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The least-cost items that free at least <paramref name="wanted"/> nodes: best[i, w] is the
    /// cheapest (cost, victims) over the first i items freeing w nodes or more (w capped at wanted).
    /// </summary>
    private static List<Item> Cheapest(List<Item> items, int wanted)
    {
        var none = (Cost: int.MaxValue, Victims: int.MaxValue);
        var best = new (int Cost, int Victims)[items.Count + 1, wanted + 1];
        for (var w = 1; w <= wanted; w++)
        {
            best[0, w] = none;
        }

        for (var i = 1; i <= items.Count; i++)
        {
            var item = items[i - 1];
            for (var w = 0; w <= wanted; w++)
            {
                var skip = best[i - 1, w];
                var rest = best[i - 1, Math.Max(0, w - item.Nodes.Count)];
                var take = rest == none ? none : (rest.Cost + item.Cost, rest.Victims + item.Victims.Count);
                best[i, w] = take.CompareTo(skip) < 0 ? take : skip;
            }
        }

        var chosen = new List<Item>();
        for (int i = items.Count, w = wanted; i > 0 && w > 0; i--)
        {
            if (best[i, w] != best[i - 1, w])
            {
                chosen.Add(items[i - 1]);
                w = Math.Max(0, w - items[i - 1].Nodes.Count);
            }
        }

        return chosen;
    }
}
