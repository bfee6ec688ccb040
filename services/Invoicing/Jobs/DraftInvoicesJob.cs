using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults.Jobs;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// Re-rates the current and the previous month's drafts: late usage can still reach the previous
/// month, and drafts stay open until finalization lands.
/// </summary>
public sealed class DraftInvoicesJob(InvoiceDrafter drafter, [FromKeyedServices(BillingClock.Key)] TimeProvider time) : IBillingJob
{
    public const string Id = "invoicing-draft";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var period in new[] { now.AddMonths(-1), now }.Select(InvoiceDrafter.PeriodOf))
        {
            await drafter.DraftAsync(period, cancellationToken);
        }
    }
}
