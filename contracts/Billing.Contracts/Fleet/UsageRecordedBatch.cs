namespace Billing.Contracts.Fleet;

/// <summary>Several usage records in one message: one broker confirm and one append for many windows.</summary>
public sealed record UsageRecordedBatch(Guid BatchId, IReadOnlyList<UsageRecorded> Records) : ILedgerEntry;
