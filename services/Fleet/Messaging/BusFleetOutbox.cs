using System.Diagnostics;
using System.Threading.Channels;
using Billing.ServiceDefaults.Telemetry;
using Billing.Contracts.Fleet;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Billing.Fleet.Messaging;

/// <summary>
/// Publishes through MassTransit (RabbitMQ publisher confirms). Usage from many grains is coalesced
/// into <see cref="UsageRecordedBatch"/> messages, so one confirm covers many windows.
/// </summary>
public sealed partial class BusFleetOutbox(IBus bus, FleetMetrics metrics, ILogger<BusFleetOutbox> logger) : BackgroundService, IFleetOutbox
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
        where T : class => bus.Publish(message, cancellationToken);

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

            try
            {
                using var span = BatchActivity.Start(FleetMetrics.Tracing, "usage publish", ActivityKind.Internal, batch.Select(p => p.Caller), records);
                await bus.Publish(new UsageRecordedBatch(NewId.NextGuid(), [.. batch.SelectMany(p => p.Usage)]), stoppingToken);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing {Count} usage records failed; the grains keep them and retry.")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int count);

    private sealed record PendingUsage(IReadOnlyList<UsageRecorded> Usage, TaskCompletionSource Done, ActivityContext Caller);
}
