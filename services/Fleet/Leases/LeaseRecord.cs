using Billing.Contracts;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Leases;

/// <summary>
/// A lease as the fleet keeps it (Marten document). <see cref="Checkpoint"/> and
/// <see cref="ClosedGpuMilliseconds"/> move together: all usage before the checkpoint was published
/// and sums to that figure, so recovery replays heartbeats from the checkpoint only.
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
    DateTimeOffset? PreemptAt = null)
{
    public LeaseTerms Terms => new(GpuIndices.Aggregate(0UL, (mask, i) => mask | (1UL << i)), StartedAt, EndedAt);
}
