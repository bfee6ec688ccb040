namespace Billing.Invoicing.Audit;

/// <summary>A scheduled reconciliation of a closed month: when it ran, and the tenants that did not reconcile.</summary>
public sealed record ReconciliationRun(Guid Id, string Period, DateTimeOffset RanAt, bool Equal, int Tenants, IReadOnlyList<TenantReconciliation> Differences);
