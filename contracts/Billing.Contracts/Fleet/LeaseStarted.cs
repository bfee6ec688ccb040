namespace Billing.Contracts.Fleet;

/// <summary>
/// A lease began accruing. <see cref="NodeId"/> and <see cref="GpuIndices"/> are its first node's;
/// <see cref="Nodes"/> lists every node of a multi-node lease (absent from messages of before).
/// </summary>
public sealed record LeaseStarted(
    Guid LeaseId,
    string TenantId,
    string NodeId,
    string Sku,
    PricingModel Pricing,
    IReadOnlyList<int> GpuIndices,
    DateTimeOffset StartedAt,
    IReadOnlyList<LeaseNode>? Nodes = null) : ILeaseFact;
