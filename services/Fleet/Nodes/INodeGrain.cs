using Billing.Contracts;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Nodes;

[Alias("Billing.Fleet.INodeGrain")]
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>Registers the node; null when it is registered already (calls take turns, so one caller wins).</summary>
    [Alias("Register")]
    Task<NodeView?> Register(NodeSpec spec);

    [Alias("Get")]
    Task<NodeView?> Get();

    /// <summary>
    /// Admits a heartbeat; <paramref name="reportedMask"/> has a bit for every GPU the agent reported on.
    /// Its <paramref name="readings"/>, when given, are stored with it.
    /// </summary>
    [Alias("RecordHeartbeat")]
    Task<HeartbeatAdmission> RecordHeartbeat(HeartbeatSample sample, ulong reportedMask, Telemetry.GpuReadings? readings = null);

    /// <summary>Reserves free GPUs for a lease; null when the node cannot take it.</summary>
    [Alias("TryAllocate")]
    Task<Allocation?> TryAllocate(Guid leaseId, int gpuCount, PricingModel pricing);

    /// <summary>
    /// Reserves GPUs that spot leases hold, giving those leases notice: the new lease starts when the
    /// notice runs out. Null when even preempting every spot lease would not make room.
    /// </summary>
    [Alias("TryPreempt")]
    Task<Allocation?> TryPreempt(Guid leaseId, int gpuCount, PricingModel pricing);

    /// <summary>The leases that hold the node now, for the pool's choice of spot victims; null when unregistered.</summary>
    [Alias("Holding")]
    Task<Placement.NodeHolding?> Holding();

    /// <summary>
    /// Reserves the whole node for a lease that starts at <paramref name="startsAt"/>, when every lease
    /// on it is one of <paramref name="victims"/> and still preemptable; null otherwise. The caller
    /// gives the victims their notice once every node of the gang has said yes.
    /// </summary>
    [Alias("TryTakeWhole")]
    Task<Allocation?> TryTakeWhole(Guid leaseId, PricingModel pricing, IReadOnlyList<Guid> victims, DateTimeOffset startsAt);

    /// <summary>A lease on this node was given notice: it holds its GPUs until <paramref name="preemptAt"/>. Interleaves, as Release.</summary>
    [Alias("Preempting")]
    [Orleans.Concurrency.AlwaysInterleave]
    Task Preempting(Guid leaseId, DateTimeOffset preemptAt);

    /// <summary>
    /// Frees a lease's GPUs; the node keeps metering it until its last interval is settled. Interleaves:
    /// the lease calls it while the node may be waiting on that lease.
    /// </summary>
    [Alias("Release")]
    [Orleans.Concurrency.AlwaysInterleave]
    Task Release(Guid leaseId);

    /// <summary>No new leases; running ones continue.</summary>
    [Alias("Drain")]
    Task<NodeView?> Drain();

    /// <summary>
    /// Acts on the server clock: completes due preemptions, starts pending leases, and interrupts
    /// leases of an unreachable node or on GPUs failed for longer than the grace.
    /// </summary>
    [Alias("Tick")]
    Task Tick();
}

/// <summary>A node to register; its fabric (high-bandwidth domain) defaults to its region, its rack is optional.</summary>
[GenerateSerializer, Immutable]
public sealed record NodeSpec(
    [property: Id(0)] string Sku, [property: Id(1)] int GpuCount, [property: Id(2)] string Region, [property: Id(3)] string? Fabric = null, [property: Id(4)] string? Rack = null);

[GenerateSerializer, Immutable]
public sealed record Allocation(
    [property: Id(0)] string NodeId,
    [property: Id(1)] IReadOnlyList<int> GpuIndices,
    [property: Id(2)] int FreeAfter,
    [property: Id(3)] DateTimeOffset? StartsAt = null,
    [property: Id(4)] string? Rack = null);

/// <remarks>Id 4 was the health as a string; a new id for the enum keeps silos of both versions apart rather than misreading it.</remarks>
[GenerateSerializer, Immutable]
public sealed record NodeView(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string Sku,
    [property: Id(2)] int GpuCount,
    [property: Id(3)] string Region,
    [property: Id(10)] NodeState Health,
    [property: Id(5)] DateTimeOffset? LastHeartbeatAt,
    [property: Id(6)] int GpusFree,
    [property: Id(7)] int GpusLeased,
    [property: Id(8)] int GpusUnhealthy,
    [property: Id(9)] bool Drained,
    [property: Id(11)] string? Fabric = null,
    [property: Id(12)] string? Rack = null);
