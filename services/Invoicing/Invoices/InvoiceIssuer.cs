using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Finalizes and issues drafts with the next numbers of the year. The number stream and the
/// invoices' streams are appended in one transaction with their expected versions, so a number is
/// used exactly once, no number is skipped, and an invoice is issued at most once, however many
/// callers race. Drafts go in batches: one transaction (and one number-stream append) per batch.
/// </summary>
public sealed class InvoiceIssuer(IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time, InvoicingMetrics metrics)
{
    private const int Attempts = 20;
    private const int BatchSize = 50;

    /// <summary>The invoice's number, issuing it first if it is still a draft.</summary>
    public async Task<string?> IssueAsync(Guid invoiceId, CancellationToken cancellationToken) =>
        (await IssueAsync([invoiceId], cancellationToken))[invoiceId];

    /// <summary>Each invoice's number (null for one that does not exist), issuing the drafts among them in the order given.</summary>
    public async Task<IReadOnlyDictionary<Guid, string?>> IssueAsync(IReadOnlyList<Guid> invoiceIds, CancellationToken cancellationToken)
    {
        var numbers = new Dictionary<Guid, string?>();
        foreach (var batch in invoiceIds.Distinct().Chunk(BatchSize))
        {
            foreach (var (id, number) in await IssueBatchAsync(batch, cancellationToken))
            {
                numbers[id] = number;
            }
        }

        return numbers;
    }

    private async Task<Dictionary<Guid, string?>> IssueBatchAsync(Guid[] invoiceIds, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var invoices = new List<JasperFx.Events.IEventStream<Invoice>>();
            foreach (var id in invoiceIds)
            {
                invoices.Add(await session.Events.FetchForWriting<Invoice>(id, cancellationToken));
            }

            var numbers = invoices.ToDictionary(i => i.Id, i => i.Aggregate?.Number);
            var drafts = invoices.Where(i => i.Aggregate is { Status: InvoiceStatus.Draft }).ToList();
            if (drafts.Count == 0)
            {
                return numbers;
            }

            var now = time.GetUtcNow();
            var year = now.Year;
            var sequence = await session.Events.FetchForWriting<InvoiceNumberSequence>(InvoiceNumberSequence.StreamFor(year), cancellationToken);
            var next = (sequence.Aggregate?.Last ?? 0) + 1;
            foreach (var draft in drafts)
            {
                var number = InvoiceNumberSequence.Format(year, next);
                sequence.AppendOne(new InvoiceNumberAssigned(year, next++, draft.Id));
                draft.AppendMany(new InvoiceFinalized(draft.Id, now), new InvoiceIssued(draft.Id, number, now));
                numbers[draft.Id] = number;
            }

            try
            {
                await session.SaveChangesAsync(cancellationToken);
                metrics.Issued(drafts.Count);
                return numbers;
            }
            catch (Exception ex) when (attempt < Attempts && WriteConflicts.IsConflict(ex))
            {
                // Another caller took numbers or issued one of these invoices: look again.
                await Task.Delay(Random.Shared.Next(5, 25) * attempt, cancellationToken);
            }
        }
    }
}
