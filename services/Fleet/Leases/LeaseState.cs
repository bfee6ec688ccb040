namespace Billing.Fleet.Leases;

/// <summary>
/// Where a lease is in its lifecycle. Stored and answered by name ("Running"), the same strings as
/// <see cref="Billing.Contracts.Fleet.LeaseEnded.State"/> carries.
/// </summary>
public enum LeaseState
{
    Pending,
    Running,
    PreemptionScheduled,
    Ended,
    Preempted,
    Interrupted,
}

public static class LeaseStates
{
    /// <summary>States that hold GPUs on the node.</summary>
    public static bool Holds(this LeaseState state) => state switch
    {
        LeaseState.Pending or LeaseState.Running or LeaseState.PreemptionScheduled => true,
        LeaseState.Ended or LeaseState.Preempted or LeaseState.Interrupted => false,
    };
}
