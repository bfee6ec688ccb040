namespace Billing.Fleet.Metering;

/// <summary>The part of a lease metering reads: its GPUs and the span it is billable for.</summary>
public sealed record LeaseTerms(ulong GpuMask, DateTimeOffset Start, DateTimeOffset? End = null)
{
    public LeaseTerms EndAt(DateTimeOffset end) => this with { End = end < Start ? Start : end };
}
