using Billing.Contracts;
using Billing.Fleet.Nodes;

namespace Billing.Fleet.Placement;

/// <summary>Places leases of one SKU onto its nodes. One activation per SKU serialises placement.</summary>
[Alias("Billing.Fleet.ISkuPoolGrain")]
public interface ISkuPoolGrain : IGrainWithStringKey
{
    [Alias("AddNode")]
    Task AddNode(string nodeId, int gpuCount);

    /// <summary>
    /// Places on free GPUs; an on-demand or reserved lease that does not fit otherwise takes GPUs from
    /// spot leases, which get notice, and starts (Pending until then) when the notice runs out.
    /// </summary>
    [Alias("Place")]
    Task<Placement> Place(Guid leaseId, int gpuCount, PricingModel pricing);

    /// <summary>GPUs of reachable, undrained nodes, and GPUs allocated to running leases, as the nodes report now.</summary>
    [Alias("Capacity")]
    Task<PoolCapacity> Capacity();
}

[GenerateSerializer, Immutable]
public sealed record PoolCapacity([property: Id(0)] int Supply, [property: Id(1)] int Allocated);

/// <summary>Where a lease went, or, when <see cref="Allocation"/> is null, how many GPUs the pool had free.</summary>
[GenerateSerializer, Immutable]
public sealed record Placement([property: Id(0)] Allocation? Allocation, [property: Id(1)] int FreeGpus);
