using Billing.Contracts;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;

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

    /// <summary>The lease ends Interrupted at <paramref name="at"/>, on every node.</summary>
    [Alias("Interrupt")]
    Task Interrupt(DateTimeOffset at);

    /// <summary>
    /// A node of the lease was lost, or a leased GPU on it stayed failed, at <paramref name="at"/>: a
    /// single-node lease ends Interrupted; a multi-node one follows its <see cref="NodeFailurePolicy"/>.
    /// </summary>
    [Alias("NodeFailed")]
    Task NodeFailed(string nodeId, DateTimeOffset at);

    /// <summary>A replacement node joins a degraded lease; false (the caller frees it) when the lease no longer wants one.</summary>
    [Alias("Join")]
    Task<bool> Join(Allocation allocation);

    [Alias("Get")]
    Task<LeaseView?> Get();

    /// <summary>Meters one heartbeat interval of one of the lease's nodes; true once that node's part is settled and needs no more.</summary>
    [Alias("AccrueOnNode")]
    Task<bool> Accrue(string nodeId, HeartbeatSample from, HeartbeatSample to);
}

[GenerateSerializer, Immutable]
public sealed record LeaseSpec(
    [property: Id(0)] string TenantId,
    [property: Id(1)] string NodeId,
    [property: Id(2)] string Sku,
    [property: Id(3)] PricingModel Pricing,
    [property: Id(4)] IReadOnlyList<int> GpuIndices,
    [property: Id(5)] DateTimeOffset? StartsAt = null,
    [property: Id(6)] IReadOnlyList<Allocation>? Nodes = null,
    [property: Id(7)] string? Fabric = null,
    [property: Id(8)] NodeFailurePolicy OnNodeFailure = NodeFailurePolicy.Replace);

/// <summary>
/// A lease as the API answers it. <see cref="NodeId"/> and <see cref="GpuIndices"/> are its first
/// node's (all of a single-node lease); <see cref="Nodes"/> lists every node it has had.
/// </summary>
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
    Telemetry.LeaseTelemetry? Telemetry = null,
    [property: Id(14)] string? Fabric = null,
    [property: Id(15)] int GpuCount = 0,
    [property: Id(16)] NodeFailurePolicy OnNodeFailure = NodeFailurePolicy.Replace,
    [property: Id(17)] bool Degraded = false,
    [property: Id(18)] IReadOnlyList<LeaseNodeView>? Nodes = null);
