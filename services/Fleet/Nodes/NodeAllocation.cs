using Billing.Contracts;

namespace Billing.Fleet.Nodes;

/// <summary>GPUs held by one lease on a node; a pending lease holds them from <see cref="StartsAt"/>, a spot lease under notice until <see cref="PreemptAt"/>.</summary>
internal sealed record NodeAllocation(ulong Mask, PricingModel Pricing, DateTimeOffset? StartsAt = null, DateTimeOffset? PreemptAt = null)
{
    public bool Preemptable => Pricing == PricingModel.Spot && PreemptAt is null && StartsAt is null;
}
