using Billing.Invoicing.Audit;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// Reconciles the last closed month every hour (late usage keeps arriving for it) and keeps the
/// result. A tenant that does not reconcile in two runs in a row is logged as an error with its
/// cause, for finance and ops to act on; once is a warning (late usage a minute before the draft
/// job adds it is no fault). An open month is left to the live report: its drafts lag usage by design.
/// </summary>
public sealed partial class ReconcileJob(
    Reconciliation reconciliation, IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time, ILogger<ReconcileJob> logger) : IBillingJob
{
    public const string Id = "invoicing-reconcile";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var closed = await session.Query<ClosedPeriod>().OrderByDescending(p => p.Id).FirstOrDefaultAsync(cancellationToken);
        if (closed is null)
        {
            return;
        }

        var previous = await session.Query<ReconciliationRun>().Where(r => r.Period == closed.Id).OrderByDescending(r => r.RanAt).FirstOrDefaultAsync(cancellationToken);
        var report = await reconciliation.ReportAsync(closed.Id, cancellationToken);
        var differences = report.Tenants.Where(t => !t.Equal).ToList();
        foreach (var tenant in differences)
        {
            var causes = string.Join(" ", tenant.Differences);
            if (previous?.Differences.Any(d => d.TenantId == tenant.TenantId) ?? false)
            {
                LogPersisting(logger, tenant.TenantId, report.Period, causes);
            }
            else
            {
                LogNew(logger, tenant.TenantId, report.Period, causes);
            }
        }

        session.Store(new ReconciliationRun(Guid.CreateVersion7(), report.Period, time.GetUtcNow(), report.Equal, report.Tenants.Count, differences));
        await session.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId} still does not reconcile for {Period}: {Differences}")]
    private static partial void LogPersisting(ILogger logger, string tenantId, string period, string differences);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {TenantId} does not reconcile for {Period} (first time): {Differences}")]
    private static partial void LogNew(ILogger logger, string tenantId, string period, string differences);
}
