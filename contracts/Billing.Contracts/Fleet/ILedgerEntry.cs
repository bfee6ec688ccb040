namespace Billing.Contracts.Fleet;

/// <summary>
/// A message the ledger applies from its tenant's partition queue, in the order the queue holds them
/// (<see cref="LedgerPartitions"/>): usage batches and lease lifecycle facts share one stream of entries.
/// </summary>
public interface ILedgerEntry;

/// <summary>A lease lifecycle fact: sent to its tenant's partition, the one the lease's usage goes to.</summary>
public interface ILeaseFact : ILedgerEntry
{
    Guid LeaseId { get; }

    string TenantId { get; }
}
