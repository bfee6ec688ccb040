using Billing.Contracts.Fleet;
using MassTransit;

namespace Billing.ServiceDefaults.Messaging;

/// <summary>
/// Sends ledger entries to their tenant's partition queue (<see cref="LedgerPartitions"/>); each send
/// completes once the broker has confirmed it. A usage batch goes as one message per partition it touches.
/// Partition queues have a single active consumer: the address declares it, so whichever side declares
/// the queue first (a fleet sending before any ledger ran) declares it as the ledger does.
/// </summary>
public sealed class LedgerRouter(IBus bus, LedgerQueues queues)
{
    public int PartitionOf(string tenantId) => queues.PartitionOf(tenantId);

    public Task SendAsync(ILedgerEntry entry, CancellationToken cancellationToken = default) => entry switch
    {
        UsageRecordedBatch usage => Task.WhenAll(usage.Records.GroupBy(r => PartitionOf(r.TenantId)).Select(part =>
            SendAsync(part.Key, usage with { BatchId = NewId.NextGuid(), Records = part.ToList() }, cancellationToken))),
        ILeaseFact fact => SendAsync(PartitionOf(fact.TenantId), fact, cancellationToken),
        _ => throw new ArgumentException($"No partition for {entry.GetType().Name}.", nameof(entry)),
    };

    /// <summary>Sends to one partition as is: the caller routed it (every record of <paramref name="entry"/> is of that partition).</summary>
    public async Task SendAsync(int partition, ILedgerEntry entry, CancellationToken cancellationToken = default)
    {
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{queues.QueueName(partition)}?singleactiveconsumer=true"));
        await endpoint.Send(entry, entry.GetType(), cancellationToken);
    }
}
