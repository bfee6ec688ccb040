using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Heartbeats;

/// <summary>
/// Keeps the heartbeat log from growing without end: every day, each node's heartbeats older than
/// the retention go, except its latest (the baseline that orders the next one). Usage they metered
/// is long in the ledger; recovery reads back at most the late-arrival window.
/// </summary>
public sealed partial class HeartbeatRetentionJob(
    IHeartbeatLog log,
    IQuerySession session,
    IOptions<MeteringOptions> options,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time,
    ILogger<HeartbeatRetentionJob> logger) : IBillingJob
{
    public const string Id = "fleet-heartbeat-retention";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var retention = options.Value.HeartbeatRetention;
        var floor = options.Value.LateArrivalWindow + TimeSpan.FromDays(1);
        var before = time.GetUtcNow() - (retention > floor ? retention : floor);
        var nodeIds = await session.Query<NodeRegistration>().Select(n => n.Id).ToListAsync(cancellationToken);
        var deleted = 0;
        foreach (var nodeId in nodeIds)
        {
            deleted += await log.PruneAsync(nodeId, before, cancellationToken);
        }

        LogPruned(logger, deleted, nodeIds.Count, before);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Deleted} heartbeats of {Nodes} nodes observed before {Before:O}.")]
    private static partial void LogPruned(ILogger logger, int deleted, int nodes, DateTimeOffset before);
}
