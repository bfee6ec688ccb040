using System.Diagnostics;
using System.Threading.Channels;
using Billing.ServiceDefaults.Telemetry;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Billing.Fleet.Messaging;

/// <summary>
/// Hands messages to RabbitMQ through MassTransit (publisher confirms). What the ledger applies goes to
/// its tenant's ledger partition (<see cref="LedgerRouter"/>): usage from many grains is coalesced into
/// one <see cref="UsageRecordedBatch"/> per partition, so one confirm covers many windows; lease facts
/// go to the same partition as their lease's usage, so the ledger receives them in the order sent.
/// Other facts are published.
/// </summary>
public sealed partial class BusFleetOutbox(IBus bus, LedgerRouter ledger, FleetMetrics metrics, ILogger<BusFleetOutbox> logger)
    : BackgroundService, IFleetOutbox
{
    private const int MaxBatch = 500;
    private const int Publishers = 4;

    private readonly Channel<PendingUsage> queue = Channel.CreateUnbounded<PendingUsage>();

    public async Task PublishUsageAsync(IReadOnlyList<UsageRecorded> usage, CancellationToken cancellationToken = default)
    {
        if (usage.Count == 0)
        {
            return;
        }

        var pending = new PendingUsage(usage, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), Activity.Current?.Context ?? default);
        await queue.Writer.WriteAsync(pending, cancellationToken);
        await pending.Done.Task.WaitAsync(cancellationToken);
    }

    public Task PublishAsync<T>(T message, CancellationToken cancellationToken = default)
        where T : class => message is ILeaseFact fact ? ledger.SendAsync(fact, cancellationToken) : bus.Publish(message, cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Publishers).Select(_ => PublishBatchesAsync(stoppingToken)));

    private async Task PublishBatchesAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingUsage>();
        while (await queue.Reader.WaitToReadAsync(stoppingToken))
        {
            var records = 0;
            while (records < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
                records += pending.Usage.Count;
            }

            // A grain hands over one lease's usage at a time, hence one tenant's: one partition each.
            await Task.WhenAll(batch.GroupBy(p => ledger.PartitionOf(p.Usage[0].TenantId)).Select(part => SendAsync(part.Key, part.ToList(), stoppingToken)));
            batch.Clear();
        }
    }

    private async Task SendAsync(int partition, IReadOnlyList<PendingUsage> part, CancellationToken stoppingToken)
    {
        var records = part.Sum(p => p.Usage.Count);
        try
        {
            using var span = BatchActivity.Start(FleetMetrics.Tracing, "usage publish", ActivityKind.Internal, part.Select(p => p.Caller), records);
            await ledger.SendAsync(partition, new UsageRecordedBatch(NewId.NextGuid(), [.. part.SelectMany(p => p.Usage)]), stoppingToken);
            metrics.Published(records);
            foreach (var pending in part)
            {
                pending.Done.TrySetResult();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPublishFailed(logger, ex, records);
            foreach (var pending in part)
            {
                pending.Done.TrySetException(ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing {Count} usage records failed; the grains keep them and retry.")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int count);

    private sealed record PendingUsage(IReadOnlyList<UsageRecorded> Usage, TaskCompletionSource Done, ActivityContext Caller);
}
