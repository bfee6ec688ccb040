using Billing.Fleet.Leases;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.Fleet.Telemetry;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Heartbeats;

/// <summary>
/// Keeps the heartbeat log from growing without end: every day, each node's heartbeats older than
/// the retention go. What recovery replays stays: from the checkpoint of every lease part on the node
/// not yet settled, starting at the heartbeat at or before it (for a silent node, its latest).
/// GPU telemetry goes by its own retention.
/// </summary>
public sealed partial class HeartbeatRetentionJob(
    IHeartbeatLog log,
    IQuerySession session,
    IOptions<MeteringOptions> options,
    GpuTelemetryStore telemetry,
    IOptions<TelemetryOptions> telemetryOptions,
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
        var replayedFrom = ReplayedFrom(await session.Query<LeaseRecord>().Where(l => !l.Settled).ToListAsync(cancellationToken));
        var telemetryBefore = time.GetUtcNow() - telemetryOptions.Value.Retention;
        var deleted = 0;
        var deletedTelemetry = 0;
        foreach (var nodeId in nodeIds)
        {
            var keepFrom = replayedFrom.TryGetValue(nodeId, out var checkpoint) && checkpoint < before ? checkpoint : before;
            deleted += await log.PruneAsync(nodeId, keepFrom, cancellationToken);
            deletedTelemetry += await telemetry.PruneAsync(nodeId, telemetryBefore, cancellationToken);
        }

        LogPruned(logger, deleted, nodeIds.Count, before);
        LogPrunedTelemetry(logger, deletedTelemetry, telemetryBefore);
    }

    /// <summary>
    /// Per node, the earliest time recovery may replay from: the checkpoint of every unsettled part of every
    /// lease on it (every node of a cluster lease; a joining node's part from when it joined).
    /// </summary>
    public static IReadOnlyDictionary<string, DateTimeOffset> ReplayedFrom(IEnumerable<LeaseRecord> unsettled) =>
        unsettled.SelectMany(l => l.NodeParts.Where(p => !p.Settled))
            .GroupBy(p => p.NodeId)
            .ToDictionary(g => g.Key, g => g.Min(p => p.Checkpoint ?? p.AccruesFrom ?? p.JoinedAt));

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Deleted} heartbeats of {Nodes} nodes observed before {Before:O}.")]
    private static partial void LogPruned(ILogger logger, int deleted, int nodes, DateTimeOffset before);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted the GPU telemetry of {Deleted} heartbeats observed before {Before:O}.")]
    private static partial void LogPrunedTelemetry(ILogger logger, int deleted, DateTimeOffset before);
}
