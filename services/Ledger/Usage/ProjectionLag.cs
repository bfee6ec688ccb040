using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Billing.Ledger.Usage;

/// <summary>
/// Reads how far each async projection is behind the event store every <see cref="Every"/> and hands
/// it to <see cref="LedgerMetrics"/>: the events stored beyond its progress, and the age of the oldest
/// of them. The gauges read the last figures, so a scrape never waits on the database.
/// </summary>
public sealed partial class ProjectionLag(IDocumentStore store, LedgerMetrics metrics, ILogger<ProjectionLag> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    private const string HighWaterMark = "HighWaterMark";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        do
        {
            try
            {
                await MeasureAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogMeasureFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task MeasureAsync(CancellationToken cancellationToken)
    {
        var shards = (await store.Advanced.AllProjectionProgress(token: cancellationToken)).Where(s => s.ShardName != HighWaterMark).ToList();
        await using var session = store.QuerySession();
        var newest = await session.Events.QueryAllRawEvents().OrderByDescending(e => e.Sequence).Select(e => e.Sequence).FirstOrDefaultAsync(cancellationToken);
        foreach (var shard in shards)
        {
            var oldest = shard.Sequence >= newest
                ? (DateTimeOffset?)null
                : await session.Events.QueryAllRawEvents().Where(e => e.Sequence > shard.Sequence).OrderBy(e => e.Sequence).Select(e => e.Timestamp)
                    .FirstOrDefaultAsync(cancellationToken);
            metrics.ProjectionProgress(shard.ShardName, Math.Max(0, newest - shard.Sequence), oldest);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the projections' progress failed; the lag gauges keep their last figures.")]
    private static partial void LogMeasureFailed(ILogger logger, Exception exception);
}
