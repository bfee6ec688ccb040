using Billing.Contracts;
using Billing.Fleet.Metering;

namespace Billing.Fleet.Leases;

public static class LeaseStates
{
    public const string Pending = "Pending";
    public const string Running = "Running";
    public const string PreemptionScheduled = "PreemptionScheduled";
    public const string Ended = "Ended";
    public const string Preempted = "Preempted";
    public const string Interrupted = "Interrupted";

    /// <summary>States that hold GPUs on the node.</summary>
    public static bool Holds(string state) => state is Pending or Running or PreemptionScheduled;
}

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
    string State,
    DateTimeOffset? EndedAt,
    DateTimeOffset Checkpoint,
    long ClosedGpuMilliseconds,
    bool Settled,
    DateTimeOffset? PreemptAt = null)
{
    public LeaseTerms Terms => new(GpuIndices.Aggregate(0UL, (mask, i) => mask | (1UL << i)), StartedAt, EndedAt);
}
