using Billing.Contracts;
using Billing.Fleet.Nodes;

namespace Billing.Fleet.Placement;

/// <summary>
/// Places leases of one SKU onto its nodes. One activation per SKU serialises placement, so two
/// gangs never race for the same nodes; the node grains have the last word on their GPUs.
/// </summary>
[Alias("Billing.Fleet.ISkuPoolGrain")]
public interface ISkuPoolGrain : IGrainWithStringKey
{
    [Alias("AddNodeInFabric")]
    Task AddNode(NodeView node);

    /// <summary>
    /// Places on free GPUs, all or nothing: up to one node's GPUs on one node, beyond that on whole
    /// nodes of one fabric (<paramref name="fabric"/> when given). An on-demand or reserved request of
    /// up to one node that does not fit otherwise takes GPUs from spot leases, which get notice, and
    /// starts (Pending until then) when the notice runs out; one of whole nodes takes them in one
    /// fabric from the spot leases that cost the fewest GPU-hours (<see cref="SpotVictims"/>).
    /// </summary>
    [Alias("PlaceInFabric")]
    Task<Placement> Place(Guid leaseId, int gpuCount, PricingModel pricing, string? fabric = null);

    /// <summary>Finds a degraded lease a free node of its fabric, if one is free now.</summary>
    [Alias("Replace")]
    [Orleans.Concurrency.OneWay]
    Task Replace(Guid leaseId);

    /// <summary>GPUs of reachable, undrained nodes, and GPUs allocated to running leases, as the nodes report now.</summary>
    [Alias("Capacity")]
    Task<PoolCapacity> Capacity();

    /// <summary>Every node of the SKU as it reports now.</summary>
    [Alias("Nodes")]
    Task<IReadOnlyList<NodeView>> Nodes();
}

[GenerateSerializer, Immutable]
public sealed record PoolCapacity([property: Id(0)] int Supply, [property: Id(1)] int Allocated);

/// <summary>
/// Where a lease went (<see cref="Allocations"/>, one per node, in one fabric), or, when there are
/// none, how many GPUs the pool had free and the largest lease each fabric could take.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Placement(
    [property: Id(2)] IReadOnlyList<Allocation> Allocations,
    [property: Id(1)] int FreeGpus,
    [property: Id(3)] string? Fabric,
    [property: Id(4)] IReadOnlyDictionary<string, int> LargestByFabric)
{
    /// <summary>The first node's allocation (a single-node lease's only one), or null when nothing was placed.</summary>
    public Allocation? Allocation => Allocations.Count > 0 ? Allocations[0] : null;
}
