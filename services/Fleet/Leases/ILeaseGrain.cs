using Billing.Contracts;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Leases;

[Alias("Billing.Fleet.ILeaseGrain")]
public interface ILeaseGrain : IGrainWithGuidKey
{
    [Alias("Start")]
    Task<LeaseView> Start(LeaseSpec spec);

    [Alias("End")]
    Task<LeaseView?> End();

    [Alias("Get")]
    Task<LeaseView?> Get();

    /// <summary>Meters one heartbeat interval of the lease's node; true once the lease is settled and needs no more.</summary>
    [Alias("Accrue")]
    Task<bool> Accrue(HeartbeatSample from, HeartbeatSample to);
}

[GenerateSerializer, Immutable]
public sealed record LeaseSpec(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string NodeId,
    [property: Id(2)] string Sku,
    [property: Id(3)] PricingModel Pricing,
    [property: Id(4)] IReadOnlyList<int> GpuIndices);

[GenerateSerializer, Immutable]
public sealed record LeaseView(
    [property: Id(0)] Guid LeaseId,
    [property: Id(1)] string TenantId,
    [property: Id(2)] string NodeId,
    [property: Id(3)] string Sku,
    [property: Id(4)] PricingModel Pricing,
    [property: Id(5)] IReadOnlyList<int> GpuIndices,
    [property: Id(6)] string State,
    [property: Id(7)] DateTimeOffset StartedAt,
    [property: Id(8)] DateTimeOffset? EndedAt,
    [property: Id(9)] decimal GpuSeconds,
    [property: Id(10)] bool Settled);
