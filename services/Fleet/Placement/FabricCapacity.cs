using System.Text.Json.Serialization;
using Billing.Fleet.Nodes;

namespace Billing.Fleet.Placement;

/// <summary>One node of a fabric as ops sees it.</summary>
public sealed record FabricNode(string NodeId, string? Rack, NodeState Health, int GpuCount, int GpusFree, int GpusLeased, int GpusUnhealthy, bool Drained);

/// <summary>
/// Capacity of one SKU in one fabric. Tenants see the free capacity only (nodes wholly free, GPUs
/// free, the largest lease that would fit now); ops also see what is leased, unhealthy and drained,
/// and every node.
/// </summary>
public sealed record FabricCapacity(
    string Sku,
    string Fabric,
    int NodesFree,
    int GpusFree,
    int LargestLease,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Nodes = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? GpusLeased = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? GpusUnhealthy = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? GpusDrained = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<FabricNode>? NodeList = null)
{
    /// <summary>
    /// Per fabric, from the nodes as they report now. Free GPUs are healthy, unleased GPUs of
    /// reachable, undrained nodes; drained ones are those of drained nodes; every GPU of an
    /// unreachable node that no lease holds counts as unhealthy.
    /// </summary>
    public static IReadOnlyList<FabricCapacity> Of(string sku, IReadOnlyList<NodeView> views, bool forOps)
    {
        var size = views.Select(v => v.GpuCount).DefaultIfEmpty(0).Max();
        var usable = views.Select(v => new PoolNode(v.NodeId, v.Fabric ?? v.Region, v.Rack, v.GpuCount, Takes(v) && !v.Drained ? v.GpusFree : 0)).ToList();
        var largest = GangPlacement.LargestByFabric(usable, size);
        return views.GroupBy(v => v.Fabric ?? v.Region).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var free = usable.Where(n => n.Fabric == g.Key).ToList();
            var capacity = new FabricCapacity(sku, g.Key, free.Count(n => n.GpuCount == size && n.WhollyFree), free.Sum(n => n.Free), largest[g.Key]);
            return forOps
                ? capacity with
                {
                    Nodes = g.Count(),
                    GpusLeased = g.Sum(v => v.GpusLeased),
                    GpusUnhealthy = g.Sum(v => Takes(v) ? v.GpusUnhealthy : v.GpuCount - v.GpusLeased),
                    GpusDrained = g.Sum(v => Takes(v) && v.Drained ? v.GpusFree : 0),
                    NodeList = g.OrderBy(v => v.Rack, StringComparer.Ordinal).ThenBy(v => v.NodeId, StringComparer.Ordinal)
                        .Select(v => new FabricNode(v.NodeId, v.Rack, v.Health, v.GpuCount, v.GpusFree, v.GpusLeased, v.GpusUnhealthy, v.Drained)).ToList(),
                }
                : capacity;
        }).ToList();
    }

    private static bool Takes(NodeView view) => view.Health.TakesLeases();
}
