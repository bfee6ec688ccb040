namespace Billing.Contracts.Fleet;

/// <summary>A lease placed on GPUs that free up at <see cref="StartsAt"/> (spot leases there were given notice).</summary>
public sealed record LeasePending(
    Guid LeaseId,
    string TenantId,
    string NodeId,
    string Sku,
    PricingModel Pricing,
    IReadOnlyList<int> GpuIndices,
    DateTimeOffset StartsAt) : ILeaseFact;
