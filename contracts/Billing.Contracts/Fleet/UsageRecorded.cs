namespace Billing.Contracts.Fleet;

/// <summary>
/// The healthy GPU-seconds one lease accrued in one closed, UTC-aligned minute window, and the leased
/// GPU-seconds it was not billed for because a GPU or its node was unhealthy (a health credit).
/// <see cref="UsageId"/> is derived from the lease id, the window start and, for a multi-node lease,
/// <see cref="NodeId"/> (each node meters its part), so a re-publish of the same window carries the
/// same id and is stored once.
/// </summary>
public sealed record UsageRecorded(
    Guid UsageId,
    Guid LeaseId,
    string TenantId,
    string NodeId,
    string Sku,
    PricingModel Pricing,
    DateTimeOffset WindowStart,
    decimal GpuSeconds,
    DateTimeOffset RecordedAt,
    decimal UnbilledGpuSeconds = 0);
