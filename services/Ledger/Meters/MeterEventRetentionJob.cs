using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Billing.Ledger.Meters;

/// <summary>
/// Keeps the ingest log from growing without end: every day, rows older than the late-arrival window
/// (which is also how long a copy is caught as a duplicate) go, once rolled up; an event that old is
/// refused anyway, so a copy of a deleted row can never count. Their counts stay for reconciliation.
/// </summary>
public sealed partial class MeterEventRetentionJob(
    MeterEventLog log, IOptions<MeterOptions> options, [FromKeyedServices(BillingClock.Key)] TimeProvider time, ILogger<MeterEventRetentionJob> logger) : IBillingJob
{
    public const string Id = "ledger-meter-event-retention";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - options.Value.LateArrivalWindow;
        LogPruned(logger, await log.PruneAsync(before, cancellationToken), before);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Deleted} ingested meter events from before {Before:O}.")]
    private static partial void LogPruned(ILogger logger, long deleted, DateTimeOffset before);
}
