using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.Configuration;
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
    IConfiguration configuration,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time) : IBillingJob
{
    public const string Id = "invoicing-draft";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Runs take turns (across hosts too): each rates what changed since the one before it.
        await using var turn = await JobLock.AcquireAsync(configuration.PostgresConnectionString(), $"{store.Options.DatabaseSchemaName}:{Id}", cancellationToken);
        var now = time.GetUtcNow();
        var current = BillingPeriod.Of(now);
        var previous = BillingPeriod.Of(now.AddMonths(-1));
        if (now < BillingPeriod.Bounds(previous).End + options.Value.FinalizationGrace)
        {
            await drafter.DraftAsync(previous, adjusting: null, cancellationToken);
            await drafter.DraftAsync(current, adjusting: null, cancellationToken);
            return;
        }

        // The close: a last rating of the previous month, then every draft of it issued. Until all
        // are issued (a crash midway), each run does both again; once they are, neither.
        if ((await DraftsOfAsync(previous, cancellationToken)).Count > 0)
        {
            await drafter.DraftAsync(previous, adjusting: null, cancellationToken);
            foreach (var id in await DraftsOfAsync(previous, cancellationToken))
            {
                await issuer.IssueAsync(id, cancellationToken);
            }
        }

        await drafter.DraftAsync(current, adjusting: previous, cancellationToken);
    }

    private async Task<IReadOnlyList<Guid>> DraftsOfAsync(string period, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<Invoice>().Where(i => i.Period == period && i.Status == InvoiceStatus.Draft)
            .OrderBy(i => i.TenantId).Select(i => i.Id).ToListAsync(cancellationToken);
    }
}
