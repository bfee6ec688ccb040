using System.Diagnostics;
using System.Threading.Channels;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Telemetry;
using Billing.Contracts.Fleet;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Billing.Fleet.Messaging;

/// <summary>
/// Publishes through MassTransit (RabbitMQ publisher confirms). Usage from many grains is coalesced
/// for up to <see cref="FillTime"/> into one <see cref="UsageRecordedBatch"/> per ledger partition, so
/// one confirm covers many windows and each ledger transaction stores many of them.
/// </summary>
public sealed partial class BusFleetOutbox(IBus bus, LedgerPartitions partitions, FleetMetrics metrics, ILogger<BusFleetOutbox> logger)
    : BackgroundService, IFleetOutbox
{
    /// <summary>How long a publisher waits for more usage once it has some: a few ms of latency buys fuller batches under load.</summary>
    public static readonly TimeSpan FillTime = TimeSpan.FromMilliseconds(5);

    private const int MaxBatch = 4000;
    private const int MaxMessage = 1000;
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
        where T : class => bus.Publish(message, cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Publishers).Select(_ => PublishBatchesAsync(stoppingToken)));

    private async Task PublishBatchesAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingUsage>();
        while (await queue.Reader.WaitToReadAsync(stoppingToken))
        {
            var records = await FillAsync(batch, stoppingToken);
            try
            {
                using var span = BatchActivity.Start(FleetMetrics.Tracing, "usage publish", ActivityKind.Internal, batch.Select(p => p.Caller), records);
                var messages = batch.SelectMany(p => p.Usage).GroupBy(u => partitions.Of(u.LeaseId)).SelectMany(p => p.Chunk(MaxMessage))
                    .Select(part => new UsageRecordedBatch(NewId.NextGuid(), part));
                await Task.WhenAll(messages.Select(m => bus.Publish(m, stoppingToken)));
                metrics.Published(records);
                batch.ForEach(p => p.Done.TrySetResult());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishFailed(logger, ex, records);
                batch.ForEach(p => p.Done.TrySetException(ex));
            }

            batch.Clear();
        }
    }

    /// <summary>Takes what is queued, waiting up to <see cref="FillTime"/> for more, up to <see cref="MaxBatch"/> records; returns the count.</summary>
    private async Task<int> FillAsync(List<PendingUsage> batch, CancellationToken stoppingToken)
    {
        var records = 0;
        using var filling = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        filling.CancelAfter(FillTime);
        while (records < MaxBatch)
        {
            if (queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
                records += pending.Usage.Count;
                continue;
            }

            try
            {
                await queue.Reader.WaitToReadAsync(filling.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        return records;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing {Count} usage records failed; the grains keep them and retry.")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int count);

    private sealed record PendingUsage(IReadOnlyList<UsageRecorded> Usage, TaskCompletionSource Done, ActivityContext Caller);
}
