namespace Billing.Contracts.Fleet;

public sealed record LeaseStarted(
    Guid LeaseId,
    string TenantId,
    string NodeId,
    string Sku,
    PricingModel Pricing,
    IReadOnlyList<int> GpuIndices,
    DateTimeOffset StartedAt);
