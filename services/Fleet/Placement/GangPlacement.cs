namespace Billing.Fleet.Placement;

/// <summary>A node as placement sees it: where it sits, its size, and its free healthy GPUs (0 when it takes no leases).</summary>
public sealed record PoolNode(string NodeId, string Fabric, string? Rack, int GpuCount, int Free)
{
    public bool WhollyFree => Free == GpuCount;
}

/// <summary>Where one part of a lease goes: a node and how many of its GPUs.</summary>
public sealed record PlannedNode(string NodeId, string? Rack, int GpuCount);

/// <summary>
/// A placement decision: the nodes of one fabric, or (when <see cref="Nodes"/> is empty) the
/// largest lease each fabric could take now.
/// </summary>
public sealed record GangPlan(string? Fabric, IReadOnlyList<PlannedNode> Nodes, IReadOnlyDictionary<string, int> LargestByFabric)
{
    public bool Placed => Nodes.Count > 0;
}

/// <summary>
/// Gang placement, a pure rule. Up to one node's GPUs: best fit (the node with the fewest free GPUs
/// that still fit, ties by node id). Beyond that, whole free nodes of one fabric, all or nothing:
/// the fabric with the fewest wholly free nodes that still fit (so large holes stay open for large
/// requests), and in it the fewest racks: whole racks, largest first, until one rack can take the
/// rest, which then comes from the rack that fits it most tightly.
/// </summary>
public static class GangPlacement
{
    /// <summary>The GPUs of one node of the SKU: a lease beyond it takes whole nodes of this size.</summary>
    public static int NodeSize(IEnumerable<PoolNode> nodes) => nodes.Select(n => n.GpuCount).DefaultIfEmpty(0).Max();

    /// <summary>Null when the count is placeable in shape; otherwise why not.</summary>
    public static string? ShapeError(int gpuCount, int nodeSize) =>
        nodeSize > 0 && gpuCount > nodeSize && gpuCount % nodeSize != 0
            ? $"A lease of more than one node takes whole nodes: {gpuCount} is not a multiple of {nodeSize}, the GPUs of one node."
            : null;

    public static GangPlan Plan(IReadOnlyCollection<PoolNode> nodes, int gpuCount, string? fabric = null, IReadOnlySet<string>? exclude = null)
    {
        var size = NodeSize(nodes);
        var usable = nodes.Where(n => (fabric is null || n.Fabric == fabric) && (exclude is null || !exclude.Contains(n.NodeId))).ToList();
        var refused = new GangPlan(null, [], LargestByFabric(usable, size));
        if (gpuCount < 1 || size == 0 || ShapeError(gpuCount, size) is not null)
        {
            return refused;
        }

        if (gpuCount <= size)
        {
            var best = usable.Where(n => n.Free >= gpuCount).OrderBy(n => n.Free).ThenBy(n => n.NodeId, StringComparer.Ordinal).FirstOrDefault();
            return best is null ? refused : refused with { Fabric = best.Fabric, Nodes = [new PlannedNode(best.NodeId, best.Rack, gpuCount)] };
        }

        var wanted = gpuCount / size;
        var tightest = usable
            .Where(n => n.GpuCount == size && n.WhollyFree)
            .GroupBy(n => n.Fabric)
            .Where(g => g.Count() >= wanted)
            .OrderBy(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .FirstOrDefault();
        return tightest is null
            ? refused
            : refused with { Fabric = tightest.Key, Nodes = PackRacks(tightest, wanted).Select(n => new PlannedNode(n.NodeId, n.Rack, size)).ToList() };
    }

    /// <summary>Per fabric, the largest lease that would fit now: its wholly free nodes' GPUs, or else the most free GPUs of one node.</summary>
    public static IReadOnlyDictionary<string, int> LargestByFabric(IEnumerable<PoolNode> nodes, int nodeSize) =>
        nodes.GroupBy(n => n.Fabric).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => Math.Max(g.Count(n => n.GpuCount == nodeSize && n.WhollyFree) * nodeSize, g.Select(n => n.Free).DefaultIfEmpty(0).Max()));

    /// <summary>Fewest racks: a node without a rack is a rack of its own.</summary>
    private static IEnumerable<PoolNode> PackRacks(IEnumerable<PoolNode> free, int wanted)
    {
        var racks = free.GroupBy(n => n.Rack ?? $"\0{n.NodeId}")
            .Select(g => g.OrderBy(n => n.NodeId, StringComparer.Ordinal).ToList())
            .OrderByDescending(r => r.Count).ThenBy(r => r[0].Rack ?? r[0].NodeId, StringComparer.Ordinal)
            .ToList();
        var chosen = new List<PoolNode>();
        while (chosen.Count < wanted)
        {
            var rest = wanted - chosen.Count;
            var fits = racks.Where(r => r.Count >= rest).OrderBy(r => r.Count).FirstOrDefault();
            var rack = fits ?? racks[0];
            chosen.AddRange(rack.Take(rest));
            racks.Remove(rack);
        }

        return chosen;
    }
}
