namespace Billing.Contracts.Fleet;

/// <summary>A spot lease's notice: it stops accruing and ends (Preempted) at <see cref="PreemptAt"/>.</summary>
public sealed record LeasePreemptionScheduled(Guid LeaseId, string TenantId, DateTimeOffset PreemptAt, DateTimeOffset NoticeGivenAt) : ILeaseFact;
