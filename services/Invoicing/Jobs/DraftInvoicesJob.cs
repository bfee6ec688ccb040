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
        var current = BillingPeriod.Of(now);
        var previous = BillingPeriod.Of(now.AddMonths(-1));
        if (!await IsClosedAsync(previous, cancellationToken))
        {
            if (now < BillingPeriod.Bounds(previous).End + options.Value.FinalizationGrace)
            {
                await drafter.DraftAsync(previous, adjusting: null, cancellationToken);
                await drafter.DraftAsync(current, adjusting: null, cancellationToken);
                return;
            }

            await CloseAsync(previous, cancellationToken);
        }

        await drafter.DraftAsync(current, adjusting: previous, cancellationToken);
    }

    private async Task<bool> IsClosedAsync(string period, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<ClosedPeriod>(period, cancellationToken) is not null;
    }

    /// <summary>
    /// A last rating of the month, then every draft of it issued, then the month marked closed.
    /// A run that stops midway leaves it unmarked, and the next run does it all again (each step is
    /// idempotent); once marked, usage of the month goes on the next invoices as adjustments.
    /// </summary>
    private async Task CloseAsync(string period, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        await drafter.DraftAsync(period, adjusting: null, cancellationToken);
        var drafts = await session.Query<Invoice>().Where(i => i.Period == period && i.Status == InvoiceStatus.Draft)
            .OrderBy(i => i.TenantId).Select(i => i.Id).ToListAsync(cancellationToken);
        await issuer.IssueAsync(drafts, cancellationToken);

        session.Store(new ClosedPeriod(period, time.GetUtcNow()));
        await session.SaveChangesAsync(cancellationToken);
    }
}
