using Billing.Invoicing.Audit;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// Reconciles the last closed month every hour (late usage keeps arriving for it) and keeps the
/// result; each tenant that does not reconcile is logged as an error with its cause, for finance
/// and ops to act on. An open month is left to the live report: its drafts lag usage by design.
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

        var report = await reconciliation.ReportAsync(closed.Id, cancellationToken);
        var differences = report.Tenants.Where(t => !t.Equal).ToList();
        foreach (var tenant in differences)
        {
            LogDifference(logger, tenant.TenantId, report.Period, string.Join(" ", tenant.Differences));
        }

        session.Store(new ReconciliationRun(Guid.CreateVersion7(), report.Period, time.GetUtcNow(), report.Equal, report.Tenants.Count, differences));
        await session.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId} does not reconcile for {Period}: {Differences}")]
    private static partial void LogDifference(ILogger logger, string tenantId, string period, string differences);
}
