namespace Billing.Contracts.Fleet;

/// <summary>
/// A node left a multi-node lease that goes on without it: its GPUs stopped accruing at
/// <see cref="LeftAt"/>. <see cref="State"/> says why ("Failed"); a replacement, if one is found, follows as <see cref="LeaseNodeReplaced"/>.
/// </summary>
public sealed record LeaseNodeLeft(Guid LeaseId, string TenantId, string NodeId, DateTimeOffset LeftAt, string State) : ILeaseFact;
