using System.Diagnostics;
using Billing.Contracts.Fleet;
using Billing.Ledger.Leases;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Telemetry;
using Marten;
using Marten.Services;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.Ledger.Partitions;

/// <summary>
/// Applies a partition's entries, usage batches and lease facts alike, many messages per transaction
/// (MassTransit batch, in the order the queue delivered them), so a lease's stream holds its events in
/// the order the fleet sent them: <c>LeaseEnded</c> after the lease's last usage. New usage windows go in
/// through <see cref="UsageRollups.StoreAsync"/> (a window already stored, a redelivery or a replay, is
/// skipped by its unique id there); a lease fact goes in once, with its <see cref="AppliedFact"/> marker.
/// Each attempt opens its own transaction and session: a retry must not carry the failed attempt's
/// pending appends. The transaction is the consumer's own (Marten enlists in it and commits it), as the
/// windows' insert runs on its connection before Marten's unit of work.
/// The transaction's span is linked to every message's trace: MassTransit runs a batch under one
/// message's activity only, so without the links the other heartbeats' traces would not reach it.
/// </summary>
public sealed class LedgerEntryConsumer(
    IDocumentStore store, NpgsqlDataSource dataSource, LedgerMetrics metrics, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    : IConsumer<Batch<ILedgerEntry>>
{
    /// <summary>Each entry as its own type: MassTransit hands a consumer of an interface a stand-in that carries none of the fields.</summary>
    private static readonly Func<ConsumeContext, ILedgerEntry?>[] Readers =
    [
        As<UsageRecordedBatch>, As<LeasePending>, As<LeaseStarted>, As<LeasePreemptionScheduled>, As<LeaseEnded>, As<LeaseNodeLeft>,
        As<LeaseNodeReplaced>, As<LeaseNodeJoined>,
    ];

    public async Task Consume(ConsumeContext<Batch<ILedgerEntry>> context)
    {
        // SentTime is the fleet's wall clock when it sent; a message without one counts from now.
        using var storing = metrics.Storing(context.Message.Select(m => m.SentTime is { } sent ? new DateTimeOffset(sent, TimeSpan.Zero) : DateTimeOffset.UtcNow).Min());
        using var span = BatchActivity.Start(LedgerMetrics.Tracing, "ledger store usage", ActivityKind.Internal, context.Message.Select(m => m.SenderTrace()), context.Message.Length, underCurrent: true);
        var entries = context.Message.Select(Read).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(context.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(context.CancellationToken);
        await using var session = store.LightweightSession(SessionOptions.ForTransaction(transaction, shouldAutoCommit: true));

        var records = entries.OfType<UsageRecordedBatch>().SelectMany(b => b.Records).DistinctBy(r => r.UsageId).ToList();
        var fresh = records.Count == 0
            ? []
            : (await UsageRollups.StoreAsync(session, connection, records.Select(MeteredWindow.From).ToList(), context.CancellationToken)).Select(w => w.Id).ToHashSet();
        var stored = fresh.Count;
        var facts = entries.OfType<ILeaseFact>().Select(AppliedFact.IdOf).Distinct().ToList();
        var applied = facts.Count == 0
            ? []
            : (await session.LoadManyAsync<AppliedFact>(context.CancellationToken, facts)).Select(f => f.Id).ToHashSet();

        // Each lease's new events in arrival order; a window or fact seen earlier in the batch or stored before is left out.
        var streams = new Dictionary<Guid, List<object>>();
        foreach (var entry in entries)
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

        if (streams.Count > 0)
        {
            // A fixed order: two transactions touching the same streams lock them in the same order.
            foreach (var (leaseId, events) in streams.OrderBy(s => s.Key))
            {
                session.Events.Append(leaseId, events.ToArray());
            }

            await session.SaveChangesWithoutExceptionDataAsync(context.CancellationToken);
        }

        metrics.Stored(stored, records.Count - stored);
    }

    private static List<object> EventsOf(Dictionary<Guid, List<object>> streams, Guid leaseId) =>
        streams.TryGetValue(leaseId, out var events) ? events : streams[leaseId] = [];

    private static ILedgerEntry Read(ConsumeContext<ILedgerEntry> message) =>
        Readers.Select(read => read(message)).FirstOrDefault(entry => entry is not null)
        ?? throw new InvalidOperationException($"A ledger entry of an unknown type: {string.Join(", ", message.SupportedMessageTypes)}.");

    private static ILedgerEntry? As<T>(ConsumeContext message)
        where T : class, ILedgerEntry =>
        message.TryGetMessage<T>(out var typed) ? typed.Message : null;
}

public sealed class LedgerEntryConsumerDefinition : ConsumerDefinition<LedgerEntryConsumer>
{
    public const int MessagesPerTransaction = 50;

    private const int ConflictRetries = 1000;

    /// <summary>One transaction at a time per partition: the partition's entries are applied in the order received.</summary>
    public LedgerEntryConsumerDefinition()
    {
        ConcurrentMessageLimit = MessagesPerTransaction;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<LedgerEntryConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = MessagesPerTransaction * 2;
        endpointConfigurator.ConcurrentMessageLimit = MessagesPerTransaction;
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 200, 1000, 5000, 15000));

        // A lost race (a replay or a rebuild of the same tenant-month, a partition handed over mid-transaction)
        // is retried until it wins: giving up would park metered usage in the error queue.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<Exception>(WriteConflicts.IsConflict);
            r.Exponential(ConflictRetries, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100));
        });
        consumerConfigurator.Options<BatchOptions>(o => o
            .SetMessageLimit(MessagesPerTransaction)
            .SetTimeLimit(TimeSpan.FromMilliseconds(20))
            .SetConcurrencyLimit(1));
    }
}
