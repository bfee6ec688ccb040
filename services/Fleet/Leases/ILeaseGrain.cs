using Billing.Contracts;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Leases;

[Alias("Billing.Fleet.ILeaseGrain")]
public interface ILeaseGrain : IGrainWithGuidKey
{
    [Alias("Start")]
    Task<LeaseView> Start(LeaseSpec spec);

    /// <summary>The tenant ends the lease now.</summary>
    [Alias("End")]
    Task<LeaseView?> End();

    /// <summary>A pending lease whose GPUs have freed up starts running.</summary>
    [Alias("Activate")]
    Task Activate();

    /// <summary>Gives a spot lease notice: it stops accruing at <paramref name="preemptAt"/>.</summary>
    [Alias("SchedulePreemption")]
    Task SchedulePreemption(DateTimeOffset preemptAt);

    /// <summary>The notice has run out: the lease is Preempted as of its preemption time.</summary>
    [Alias("CompletePreemption")]
    Task CompletePreemption();

    /// <summary>The node was lost or a leased GPU stayed failed: the lease ends Interrupted at <paramref name="at"/>.</summary>
    [Alias("Interrupt")]
    Task Interrupt(DateTimeOffset at);

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
    [property: Id(4)] IReadOnlyList<int> GpuIndices,
    [property: Id(5)] DateTimeOffset? StartsAt = null);

/// <remarks>Id 6 was the state as a string; a new id for the enum keeps silos of both versions apart rather than misreading it.</remarks>
[GenerateSerializer, Immutable]
public sealed record LeaseView(
    [property: Id(0)] Guid LeaseId,
    [property: Id(1)] string TenantId,
    [property: Id(2)] string NodeId,
    [property: Id(3)] string Sku,
    [property: Id(4)] PricingModel Pricing,
    [property: Id(5)] IReadOnlyList<int> GpuIndices,
    [property: Id(12)] LeaseState State,
    [property: Id(7)] DateTimeOffset StartedAt,
    [property: Id(8)] DateTimeOffset? EndedAt,
    [property: Id(9)] decimal GpuSeconds,
    [property: Id(10)] bool Settled,
    [property: Id(11)] DateTimeOffset? PreemptAt,
    [property: Id(13), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Telemetry.LeaseTelemetry? Telemetry = null);
