using Billing.Contracts;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Leases;

/// <summary>
/// A lease as the fleet keeps it (Marten document). <see cref="Checkpoint"/> and
/// <see cref="ClosedGpuMilliseconds"/> move together: all usage before the checkpoint was published
/// and sums to that figure, so recovery replays heartbeats from the checkpoint only. A lease spans
/// one or more nodes (<see cref="Parts"/>, each metered on its own); <see cref="NodeId"/> and
/// <see cref="GpuIndices"/> are its first node's, and the lease-level checkpoint is its parts' earliest.
/// A record written before leases had parts has none: its one part is made from those fields.
/// </summary>
public sealed record LeaseRecord(
    Guid Id,
    string TenantId,
    string NodeId,
    string Sku,
    PricingModel Pricing,
    IReadOnlyList<int> GpuIndices,
    DateTimeOffset StartedAt,
    LeaseState State,
    DateTimeOffset? EndedAt,
    DateTimeOffset Checkpoint,
    long ClosedGpuMilliseconds,
    bool Settled,
    DateTimeOffset? PreemptAt = null,
    IReadOnlyList<LeasePart>? Parts = null,
    string[]? NodeIds = null,
    string? Fabric = null,
    int NodeCount = 1,
    NodeFailurePolicy OnNodeFailure = NodeFailurePolicy.Replace,
    bool Degraded = false)
{
    public LeaseTerms Terms => new(GpuIndices.Aggregate(0UL, (mask, i) => mask | (1UL << i)), StartedAt, EndedAt);

    public IReadOnlyList<LeasePart> NodeParts => Parts ??
    [
        new LeasePart(NodeId, null, GpuIndices, StartedAt, State.Holds() ? LeaseNodeState.Running : LeaseNodeState.Released, StartedAt, EndedAt,
            Checkpoint, ClosedGpuMilliseconds, Settled),
    ];

    /// <summary>A lease placed on more than one node: its usage ids name the node of each window.</summary>
    public bool IsCluster => NodeCount > 1;

    /// <summary>The record with these parts, and the lease-level fields that summarize them.</summary>
    public LeaseRecord WithParts(IReadOnlyList<LeasePart> parts) => this with
    {
        Parts = parts,
        NodeIds = parts.Select(p => p.NodeId).Distinct().ToArray(),
        Checkpoint = parts.Min(p => p.Checkpoint ?? p.AccruesFrom ?? p.JoinedAt),
        ClosedGpuMilliseconds = parts.Sum(p => p.ClosedGpuMilliseconds),
        Settled = !State.Holds() && parts.All(p => p.Settled),
        Degraded = State.Holds() && parts.Count(p => p.Active) < NodeCount,
    };
}
