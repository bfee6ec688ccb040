using Billing.Fleet.Metering;

namespace Billing.Fleet.Leases;

/// <summary>What a multi-node lease does when one of its nodes is lost or keeps a failed GPU past the grace.</summary>
public enum NodeFailurePolicy
{
    /// <summary>A healthy free node of the same fabric joins in its place; the lease runs degraded until one is free.</summary>
    Replace,

    /// <summary>The lease goes on with the nodes it has.</summary>
    Shrink,

    /// <summary>The whole lease ends Interrupted at the failure.</summary>
    End,
}

/// <summary>Where one node's part of a lease is: joined (not yet vouched for by a heartbeat), running, failed, or released at the lease's end.</summary>
public enum LeaseNodeState
{
    Joining,
    Running,
    Failed,
    Released,
}

/// <summary>
/// One node's part of a lease, metered on its own: its GPUs accrue from <see cref="AccruesFrom"/>
/// (the lease start, or a replacement's first heartbeat after joining) to <see cref="LeftAt"/>.
/// <see cref="Checkpoint"/> and <see cref="ClosedGpuMilliseconds"/> move together, as on the lease.
/// </summary>
public sealed record LeasePart(
    string NodeId,
    string? Rack,
    IReadOnlyList<int> GpuIndices,
    DateTimeOffset JoinedAt,
    LeaseNodeState State,
    DateTimeOffset? AccruesFrom,
    DateTimeOffset? LeftAt = null,
    DateTimeOffset? Checkpoint = null,
    long ClosedGpuMilliseconds = 0,
    bool Settled = false,
    string? ReplacedBy = null)
{
    public ulong GpuMask => GpuIndices.Aggregate(0UL, (mask, i) => mask | (1UL << i));

    /// <summary>Holds its node's GPUs.</summary>
    public bool Active => State is LeaseNodeState.Joining or LeaseNodeState.Running;

    /// <summary>Null until a heartbeat has vouched for the part.</summary>
    public LeaseTerms? Terms => AccruesFrom is { } start ? new LeaseTerms(GpuMask, start, LeftAt) : null;
}

/// <summary>One node's part of a lease as the API shows it; a multi-node lease's answer gives each node's telemetry.</summary>
[GenerateSerializer, Immutable]
public sealed record LeaseNodeView(
    [property: Id(0)] string NodeId,
    [property: Id(1)] string? Rack,
    [property: Id(2)] IReadOnlyList<int> GpuIndices,
    [property: Id(3)] LeaseNodeState State,
    [property: Id(4)] DateTimeOffset JoinedAt,
    [property: Id(5)] DateTimeOffset? AccruesFrom,
    [property: Id(6)] DateTimeOffset? LeftAt,
    [property: Id(7)] decimal GpuSeconds,
    [property: Id(8), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Telemetry.LeaseTelemetry? Telemetry = null);
