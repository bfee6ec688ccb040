using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// Keeps drafts current and closes months: until the previous month's end plus the grace, both
/// months are drafts; after it, the previous month's drafts are rated a last time and issued, and
/// usage that arrives later for it goes on the current month's invoice as adjustment lines.
/// </summary>
public sealed class DraftInvoicesJob(
    InvoiceDrafter drafter,
    InvoiceIssuer issuer,
    IDocumentStore store,
    IOptions<InvoicingOptions> options,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time) : IBillingJob
{
    public const string Id = "invoicing-draft";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var current = InvoiceDrafter.PeriodOf(now);
        var previous = InvoiceDrafter.PeriodOf(now.AddMonths(-1));
        await drafter.DraftAsync(previous, adjusting: null, cancellationToken);
        if (now < InvoiceDrafter.Bounds(previous).End + options.Value.FinalizationGrace)
        {
            await drafter.DraftAsync(current, adjusting: null, cancellationToken);
            return;
        }

        await IssueDraftsAsync(previous, cancellationToken);
        await drafter.DraftAsync(current, adjusting: previous, cancellationToken);
    }

    private async Task IssueDraftsAsync(string period, CancellationToken cancellationToken)
    {
        List<Guid> drafts;
        await using (var session = store.QuerySession())
        {
            drafts = (await session.Query<Invoice>().Where(i => i.Period == period && i.Status == InvoiceStatus.Draft)
                .OrderBy(i => i.TenantId).Select(i => i.Id).ToListAsync(cancellationToken)).ToList();
        }

        foreach (var id in drafts)
        {
            await issuer.IssueAsync(id, cancellationToken);
        }
    }
}
