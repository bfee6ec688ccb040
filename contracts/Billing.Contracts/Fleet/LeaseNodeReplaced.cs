namespace Billing.Contracts.Fleet;

/// <summary>
/// A node of a multi-node lease failed at <see cref="FailedAt"/> and <see cref="Node"/> joined in its
/// place at <see cref="JoinedAt"/>; the new node's GPUs accrue from its first heartbeat after joining.
/// </summary>
public sealed record LeaseNodeReplaced(
    Guid LeaseId,
    string TenantId,
    string FailedNodeId,
    DateTimeOffset FailedAt,
    LeaseNode Node,
    DateTimeOffset JoinedAt) : ILeaseFact;
