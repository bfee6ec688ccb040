namespace Billing.Fleet.Leases;

/// <summary>Lease lifecycle settings (section <c>Billing:Leases</c>).</summary>
public sealed class LeaseOptions
{
    public const string Section = "Billing:Leases";

    /// <summary>How long a spot lease runs after its preemption notice.</summary>
    public TimeSpan PreemptionNotice { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How long past the heartbeat timeout an unreachable node's leases wait before they are interrupted.</summary>
    public TimeSpan UnreachableGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a leased GPU may stay failed before its lease is interrupted.</summary>
    public TimeSpan FailedGpuGrace { get; set; } = TimeSpan.FromMinutes(5);
}
