using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Finalizes and issues a draft with the next number of the year. The number's stream and the
/// invoice's stream are appended in one transaction with their expected versions, so a number is
/// used exactly once, no number is skipped, and an invoice is issued at most once, however many
/// runs race.
/// </summary>
public sealed class InvoiceIssuer(IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
{
    private const int Attempts = 20;

    /// <summary>The invoice's number, issuing it first if it is still a draft.</summary>
    public async Task<string?> IssueAsync(Guid invoiceId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var invoice = await session.Events.FetchForWriting<Invoice>(invoiceId, cancellationToken);
            if (invoice.Aggregate is not { Status: InvoiceStatus.Draft })
            {
                return invoice.Aggregate?.Number;
            }

            var now = time.GetUtcNow();
            var year = now.Year;
            var numbers = await session.Events.FetchForWriting<InvoiceNumberSequence>(InvoiceNumberSequence.StreamFor(year), cancellationToken);
            var next = (numbers.Aggregate?.Last ?? 0) + 1;
            var number = InvoiceNumberSequence.Format(year, next);
            numbers.AppendOne(new InvoiceNumberAssigned(year, next, invoiceId));
            invoice.AppendMany(new InvoiceFinalized(invoiceId, now), new InvoiceIssued(invoiceId, number, now));
            try
            {
                await session.SaveChangesAsync(cancellationToken);
                return number;
            }
            catch (Exception ex) when (attempt < Attempts && WriteConflicts.IsConflict(ex))
            {
                // Another run took the number or issued this invoice: look again.
                await Task.Delay(Random.Shared.Next(5, 25) * attempt, cancellationToken);
            }
        }
    }
}
