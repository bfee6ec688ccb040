using Billing.Contracts.Fleet;
using System.Diagnostics;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Telemetry;
using Marten;
using Marten.Services;
using MassTransit;
using Npgsql;

namespace Billing.Ledger.Usage;

/// <summary>
/// Appends each new usage window to its lease's stream, many messages per transaction (MassTransit
/// batch), and adds it to the hours rating reads. Windows already stored (a redelivery, a replay after
/// a fleet crash) are skipped by the window's unique id as it is inserted (<see cref="UsageRollups.StoreAsync"/>),
/// so only the new ones reach the streams.
/// Each attempt opens its own transaction and session: a retry must not carry the failed attempt's
/// pending appends. The transaction is the consumer's own (Marten enlists in it and commits it), as the
/// windows' insert runs on its connection before Marten's unit of work.
/// The transaction's span is linked to every message's trace: MassTransit runs a batch under one
/// message's activity only, so without the links the other heartbeats' traces would not reach it.
/// </summary>
public sealed class UsageBatchConsumer(IDocumentStore store, NpgsqlDataSource dataSource, LedgerMetrics metrics) : IConsumer<Batch<UsageRecordedBatch>>
{
    public async Task Consume(ConsumeContext<Batch<UsageRecordedBatch>> context)
    {
        // SentTime is the fleet's wall clock when it published; a message without one counts from now.
        using var storing = metrics.Storing(context.Message.Select(m => m.SentTime is { } sent ? new DateTimeOffset(sent, TimeSpan.Zero) : DateTimeOffset.UtcNow).Min());
        using var span = BatchActivity.Start(LedgerMetrics.Tracing, "ledger store usage", ActivityKind.Internal, context.Message.Select(m => m.SenderTrace()), context.Message.Length, underCurrent: true);
        await using var connection = await dataSource.OpenConnectionAsync(context.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(context.CancellationToken);
        await using var session = store.LightweightSession(SessionOptions.ForTransaction(transaction, shouldAutoCommit: true));
        var records = context.Message.SelectMany(m => m.Message.Records).DistinctBy(r => r.UsageId).ToList();
        var fresh = (await UsageRollups.StoreAsync(session, connection, records.Select(MeteredWindow.From).ToList(), context.CancellationToken)).Select(w => w.Id).ToHashSet();
        if (fresh.Count == 0)
        {
            metrics.Stored(0, records.Count);
            return;
        }

        // A fixed order: two transactions touching the same streams lock them in the same order.
        foreach (var lease in records.Where(r => fresh.Contains(r.UsageId)).GroupBy(r => r.LeaseId).OrderBy(g => g.Key))
        {
            session.Events.Append(lease.Key, lease.OrderBy(r => r.WindowStart).Cast<object>().ToArray());
        }

        await session.SaveChangesWithoutExceptionDataAsync(context.CancellationToken);
        metrics.Stored(fresh.Count, records.Count - fresh.Count);
    }
}

public sealed class UsageBatchConsumerDefinition : ConsumerDefinition<UsageBatchConsumer>
{
    public const int MessagesPerTransaction = 50;

    private const int ConflictRetries = 1000;

    /// <summary>One transaction at a time: concurrent appends to one lease stream would only collide and retry.</summary>
    public UsageBatchConsumerDefinition()
    {
        ConcurrentMessageLimit = MessagesPerTransaction;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<UsageBatchConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = MessagesPerTransaction * 2;
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 200, 1000, 5000, 15000));

        // A race lost to another ledger (same lease stream, hour or tenant-month) is retried until it
        // wins: giving up would park metered usage in the error queue.
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
