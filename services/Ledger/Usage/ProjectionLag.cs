using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Billing.Ledger.Usage;

/// <summary>How far one async projection shard is behind the committed events: how many, and since when.</summary>
public sealed record ProjectionBehind(string Shard, long Events, DateTimeOffset? OldestUnprojected);

/// <summary>
/// Reads every <see cref="Every"/> how far each async projection (the hourly usage read model) is
/// behind the event store, and hands the figures to <see cref="LedgerMetrics"/>, whose gauges show the
/// last ones: a scrape never waits on the database. Behind is measured from the newest committed
/// event, not the sequence's last value, which also counts numbers of rolled-back transactions.
/// </summary>
public sealed partial class ProjectionLag(IDocumentStore store, LedgerMetrics metrics, ILogger<ProjectionLag> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    /// <summary>The daemon's own row in the progress table: where it may read up to, not a projection.</summary>
    private const string HighWaterMark = "HighWaterMark";

    public async Task<IReadOnlyList<ProjectionBehind>> MeasureAsync(CancellationToken cancellationToken)
    {
        var shards = (await store.Advanced.AllProjectionProgress(token: cancellationToken)).Where(s => s.ShardName != HighWaterMark).ToList();
        await using var session = store.QuerySession();
        var events = session.Events.QueryAllRawEvents();
        var newest = await events.OrderByDescending(e => e.Sequence).Select(e => e.Sequence).FirstOrDefaultAsync(cancellationToken);
        var behind = new List<ProjectionBehind>();
        foreach (var shard in shards)
        {
            var oldest = shard.Sequence >= newest
                ? (DateTimeOffset?)null
                : await events.Where(e => e.Sequence > shard.Sequence).OrderBy(e => e.Sequence).Select(e => e.Timestamp).FirstOrDefaultAsync(cancellationToken);
            behind.Add(new ProjectionBehind(shard.ShardName, Math.Max(0, newest - shard.Sequence), oldest));
        }

        metrics.ProjectionsBehind(behind);
        return behind;
    }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the projections' progress failed; the lag gauges keep their last figures.")]
    private static partial void LogMeasureFailed(ILogger logger, Exception exception);
}
