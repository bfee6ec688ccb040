using Billing.Contracts.Fleet;
using Billing.ServiceDefaults;

namespace Billing.Ledger.Leases;

/// <summary>A fact applied to the ledger once: its marker shares the transaction of the append.</summary>
public sealed record AppliedFact(Guid Id, DateTimeOffset AppliedAt)
{
    /// <summary>
    /// The marker's id for a lease fact. A lease has each transition once, and a cluster node leaves,
    /// is replaced and joins a lease at most once each (a lease never takes back a node it has had).
    /// </summary>
    public static Guid IdOf(ILeaseFact fact) => DeterministicGuid.Create(fact switch
    {
        LeasePending => $"lease-pending:{fact.LeaseId:N}",
        LeasePreemptionScheduled => $"lease-preemption:{fact.LeaseId:N}",
        LeaseStarted => $"lease-started:{fact.LeaseId:N}",
        LeaseEnded => $"lease-ended:{fact.LeaseId:N}",
        LeaseNodeLeft left => $"lease-node-left:{fact.LeaseId:N}:{left.NodeId}",
        LeaseNodeReplaced replaced => $"lease-node-replaced:{fact.LeaseId:N}:{replaced.Node.NodeId}",
        LeaseNodeJoined joined => $"lease-node-joined:{fact.LeaseId:N}:{joined.Node.NodeId}",
        _ => throw new ArgumentException($"No marker for {fact.GetType().Name}.", nameof(fact)),
    });
}
