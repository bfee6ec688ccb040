namespace Billing.Contracts.Fleet;

/// <summary>A lease stopped accruing at <see cref="EndedAt"/>; <see cref="State"/> says why (Ended, Preempted, Interrupted).</summary>
public sealed record LeaseEnded(Guid LeaseId, string TenantId, string State, DateTimeOffset EndedAt) : ILeaseFact;
