using Billing.Contracts.Fleet;
using Marten;
using MassTransit;

namespace Billing.Ledger.Usage;

/// <summary>
/// Appends each new usage window of a batch to its lease's stream, one transaction per batch, and adds
/// it to the hours rating reads. A batch holds one ledger partition's windows (the fleet's outbox
/// fills it per partition), and a partition is consumed by one consumer, one message at a time, so no
/// two transactions append to one lease stream at once. Windows already stored (a redelivery, a replay
/// after a fleet crash) are skipped; a hand-made batch racing another collides on a window's unique
/// id, and the retry then finds it stored.
/// Each attempt opens its own session: a retry must not carry the failed attempt's pending appends.
/// </summary>
public sealed class UsageBatchConsumer(IDocumentStore store, LedgerMetrics metrics) : IConsumer<UsageRecordedBatch>
{
    public async Task Consume(ConsumeContext<UsageRecordedBatch> context)
    {
        // SentTime is the fleet's wall clock when it published; a message without one counts from now.
        using var storing = metrics.Storing(context.SentTime is { } sent ? new DateTimeOffset(sent, TimeSpan.Zero) : DateTimeOffset.UtcNow);
        await using var session = store.LightweightSession();
        var records = context.Message.Records.DistinctBy(r => r.UsageId).ToList();
        var ids = records.Select(r => r.UsageId).ToArray();
        var stored = (await session.Query<MeteredWindow>().Where(w => w.Id.IsOneOf(ids)).Select(w => w.Id).ToListAsync(context.CancellationToken)).ToHashSet();
        var fresh = records.Where(r => !stored.Contains(r.UsageId)).ToList();
        if (fresh.Count == 0)
        {
            metrics.Stored(0, records.Count);
            return;
        }

        // A fixed order: two transactions touching the same streams lock them in the same order.
        foreach (var lease in fresh.GroupBy(r => r.LeaseId).OrderBy(g => g.Key))
        {
            session.Events.Append(lease.Key, lease.OrderBy(r => r.WindowStart).Cast<object>().ToArray());
        }

        var windows = fresh.Select(MeteredWindow.From).ToList();
        await UsageRollups.LockTenantMonthsAsync(session, windows, context.CancellationToken);
        await UsageRollups.StoreAsync(session, windows, context.CancellationToken);

        await session.SaveChangesWithoutExceptionDataAsync(context.CancellationToken);
        metrics.Stored(fresh.Count, records.Count - fresh.Count);
    }
}
