using System.Diagnostics;
using Billing.Contracts.Fleet;
using Billing.Ledger.Leases;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Telemetry;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.Ledger.Partitions;

/// <summary>A partition's message as received: the entry, when the fleet sent it, its sender's span and the span consuming it.</summary>
public sealed record LedgerMessage(ILedgerEntry Entry, DateTimeOffset SentAt, ActivityContext Sender, ActivityContext Consumer);

/// <summary>
/// Stores a partition's messages, usage batches and lease facts alike, in one transaction, each lease's
/// events in the order of the messages. New windows go in through <see cref="UsageRollups.StoreAsync"/> (a
/// window already stored, a redelivery or a replay, is skipped by its unique id there); a lease fact
/// goes in once, with its <see cref="AppliedFact"/> marker. Each attempt opens its own transaction and
/// session: a retry must not carry the failed attempt's pending appends. The transaction is the writer's
/// own (Marten enlists in it; the writer commits it), as the windows' insert and the streams' append
/// (<see cref="LeaseStreams"/>) run on its connection beside Marten's unit of work. The span is a child of the first message's consumer span and linked to every
/// sender's, so each heartbeat's trace leads to the transaction that stored its window.
/// </summary>
public sealed class LedgerBatchWriter(
    IDocumentStore store, NpgsqlDataSource dataSource, LedgerMetrics metrics, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
{
    private const int ConflictRetries = 1000;

    private static readonly int[] RetryIntervalsMs = [50, 200, 1000, 5000, 15000];

    /// <summary>
    /// Stores the batch, retrying: a lost race (a replay or a rebuild of the same tenant-month, a partition
    /// handed over mid-transaction) until it wins, since giving up would park metered usage in the error
    /// queue; any other failure (the database restarting) a few times over about 20 s.
    /// </summary>
    public async Task StoreRetryingAsync(IReadOnlyList<LedgerMessage> batch, CancellationToken cancellationToken)
    {
        for (int conflicts = 0, failures = 0; ;)
        {
            try
            {
                await StoreAsync(batch, cancellationToken);
                return;
            }
            catch (Exception ex) when (WriteConflicts.IsConflict(ex) && ++conflicts < ConflictRetries)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 << Math.Min(conflicts, 6))), cancellationToken);
            }
            catch (Exception ex) when (!WriteConflicts.IsConflict(ex) && ex is not OperationCanceledException && failures < RetryIntervalsMs.Length)
            {
                await Task.Delay(RetryIntervalsMs[failures++], cancellationToken);
            }
        }
    }

    private async Task StoreAsync(IReadOnlyList<LedgerMessage> batch, CancellationToken cancellationToken)
    {
        using var storing = metrics.Storing(batch.Min(m => m.SentAt));
        using var span = BatchActivity.Start(LedgerMetrics.Tracing, "ledger store usage", ActivityKind.Internal, [batch[0].Consumer, .. batch.Select(m => m.Sender)], batch.Count);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var session = store.LightweightSession(SessionOptions.ForTransaction(transaction, shouldAutoCommit: false));

        var records = batch.Select(m => m.Entry).OfType<UsageRecordedBatch>().SelectMany(b => b.Records).DistinctBy(r => r.UsageId).ToList();
        var fresh = records.Count == 0
            ? []
            : (await UsageRollups.StoreAsync(session, connection, records.Select(MeteredWindow.From).ToList(), cancellationToken)).Select(w => w.Id).ToHashSet();
        var stored = fresh.Count;
        var facts = batch.Select(m => m.Entry).OfType<ILeaseFact>().Select(AppliedFact.IdOf).Distinct().ToList();
        var applied = facts.Count == 0
            ? []
            : (await session.LoadManyAsync<AppliedFact>(cancellationToken, facts)).Select(f => f.Id).ToHashSet();

        // Each lease's new events in message order; a window or fact seen earlier in the batch or stored before is left out.
        var streams = new Dictionary<Guid, List<object>>();
        foreach (var entry in batch.Select(m => m.Entry))
        {
            if (entry is UsageRecordedBatch usage)
            {
                foreach (var record in usage.Records.Where(r => fresh.Remove(r.UsageId)).OrderBy(r => r.WindowStart))
                {
                    EventsOf(streams, record.LeaseId).Add(record);
                }
            }
            else if (entry is ILeaseFact fact && applied.Add(AppliedFact.IdOf(fact)))
            {
                EventsOf(streams, fact.LeaseId).Add(fact);
                session.Insert(new AppliedFact(AppliedFact.IdOf(fact), time.GetUtcNow()));
            }
        }

        // Hours, revisions and fact markers first (a lost race fails here, before any event), the events last: the
        // sequence numbers they draw are committed at once, and a projection daemon never waits long on a gap.
        // The streams go in one order, so two transactions touching the same streams lock them in the same order.
        await session.SaveChangesWithoutExceptionDataAsync(cancellationToken);
        if (streams.Count > 0)
        {
            await LeaseStreams.AppendAsync(session, connection, streams.OrderBy(s => s.Key).Select(s => (s.Key, (IReadOnlyList<object>)s.Value)).ToList(), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);

        metrics.Stored(stored, records.Count - stored);
    }

    private static List<object> EventsOf(Dictionary<Guid, List<object>> streams, Guid leaseId) =>
        streams.TryGetValue(leaseId, out var events) ? events : streams[leaseId] = [];
}
