using System.Threading.Channels;
using Marten;
using Marten.Events;
using Billing.ServiceDefaults.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Billing.Ledger.Ops;

/// <summary>
/// Runs replays in the background, one at a time: pages through the stored events in sequence order,
/// sends each page to the ledger's partitions, and records progress after every page.
/// </summary>
public sealed partial class ReplayRunner(IDocumentStore store, LedgerRouter ledger, ILogger<ReplayRunner> logger)
    : BackgroundService
{
    private readonly Channel<Guid> queue = Channel.CreateUnbounded<Guid>();

    public ValueTask EnqueueAsync(Guid replayId) => queue.Writer.WriteAsync(replayId);

    public static IQueryable<JasperFx.Events.IEvent> Matching(IQuerySession session, ReplayRun run, ReplayTarget target)
    {
        var types = target.EventTypes.Where(t => run.EventTypes.Count == 0 || run.EventTypes.Contains(ReplayTarget.EventName(t))).ToArray();
        var from = run.From ?? DateTimeOffset.MinValue;
        var to = run.To ?? DateTimeOffset.MaxValue;
        return session.Events.QueryAllRawEvents().Where(e => e.EventTypesAre(types) && e.Timestamp >= from && e.Timestamp < to);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var replayId in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await RunAsync(replayId, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogReplayFailed(logger, ex, replayId);
                await using var session = store.LightweightSession();
                if (await session.LoadAsync<ReplayRun>(replayId, stoppingToken) is { } run)
                {
                    session.Store(run with { Done = true, Error = ex.Message });
                    await session.SaveChangesAsync(stoppingToken);
                }
            }
        }
    }

    private async Task RunAsync(Guid replayId, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var run = await session.LoadAsync<ReplayRun>(replayId, cancellationToken) ?? throw new InvalidOperationException($"No replay {replayId}.");
        var target = ReplayTarget.All.Single(t => t.Name == run.Consumer);
        var after = 0L;
        while (true)
        {
            var page = await Matching(session, run, target).Where(e => e.Sequence > after).OrderBy(e => e.Sequence).Take(ReplayTarget.PageSize).ToListAsync(cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var message in target.ToMessages(page.Select(e => e.Data).ToList()))
            {
                await ledger.SendAsync(message, cancellationToken);
            }

            after = page[^1].Sequence;
            run = run with { Published = run.Published + page.Count };
            session.Store(run);
            await session.SaveChangesAsync(cancellationToken);
        }

        session.Store(run with { Done = true });
        await session.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Replay {ReplayId} failed.")]
    private static partial void LogReplayFailed(ILogger logger, Exception exception, Guid replayId);
}
