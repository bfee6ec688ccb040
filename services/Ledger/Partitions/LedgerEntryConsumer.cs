using System.Diagnostics;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults.Telemetry;
using MassTransit;

namespace Billing.Ledger.Partitions;

/// <summary>
/// Takes a partition's entries, usage batches and lease facts alike, and has them stored in the order
/// the queue holds them (<see cref="OrderedBatches"/>), so a lease's stream holds its events in the order
/// the fleet sent them: <c>LeaseEnded</c> after the lease's last usage. A message is acknowledged once
/// the transaction that stored it has committed.
/// </summary>
public sealed class LedgerEntryConsumer(OrderedBatches batches) : IConsumer<ILedgerEntry>
{
    /// <summary>Each entry as its own type: MassTransit hands a consumer of an interface a stand-in that carries none of the fields.</summary>
    private static readonly Func<ConsumeContext, ILedgerEntry?>[] Readers =
    [
        As<UsageRecordedBatch>, As<LeasePending>, As<LeaseStarted>, As<LeasePreemptionScheduled>, As<LeaseEnded>, As<LeaseNodeLeft>,
        As<LeaseNodeReplaced>, As<LeaseNodeJoined>,
    ];

    public Task Consume(ConsumeContext<ILedgerEntry> context)
    {
        var entry = Readers.Select(read => read(context)).FirstOrDefault(e => e is not null)
            ?? throw new InvalidOperationException($"A ledger entry of an unknown type: {string.Join(", ", context.SupportedMessageTypes)}.");
        // SentTime is the fleet's wall clock when it sent; a message without one counts from now.
        var sentAt = context.SentTime is { } sent ? new DateTimeOffset(sent, TimeSpan.Zero) : DateTimeOffset.UtcNow;
        var message = new LedgerMessage(entry, sentAt, context.SenderTrace(), Activity.Current?.Context ?? default);
        return context.ReceiveContext is RabbitMqBasicConsumeContext rabbit
            ? batches.StoreAsync(context.ReceiveContext.InputAddress.AbsolutePath, rabbit.ConsumerTag, rabbit.DeliveryTag, message)
            : throw new InvalidOperationException("Ledger partitions are RabbitMQ queues: the delivery tag gives their order.");
    }

    private static ILedgerEntry? As<T>(ConsumeContext message)
        where T : class, ILedgerEntry =>
        message.TryGetMessage<T>(out var typed) ? typed.Message : null;
}

public sealed class LedgerEntryConsumerDefinition : ConsumerDefinition<LedgerEntryConsumer>
{
    /// <summary>Enough messages at once to fill a transaction; <see cref="OrderedBatches"/> restores their order and retries.</summary>
    public LedgerEntryConsumerDefinition()
    {
        ConcurrentMessageLimit = OrderedBatches.MessagesPerTransaction;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<LedgerEntryConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = OrderedBatches.MessagesPerTransaction * 2;
        endpointConfigurator.ConcurrentMessageLimit = OrderedBatches.MessagesPerTransaction;
    }
}
