using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// Closes a month without letting one tenant stop it: a tenant whose final rating fails is held back
/// (its invoice stays a draft, never issued with lines that are not its rating), every other invoice is
/// issued, and the month is marked closed naming the held tenants. Each later run rates the held
/// tenants again and issues each one that rates, with the next number of the year.
/// </summary>
public sealed partial class MonthClose(
    InvoiceDrafter drafter, InvoiceIssuer issuer, IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time, ILogger<MonthClose> logger)
{
    /// <summary>
    /// A last rating of the month, then every draft of it issued but the held ones, then the month
    /// marked closed. A run that stops midway leaves it unmarked, and the next run does it all again
    /// (each step is idempotent).
    /// </summary>
    public async Task<CloseResult> CloseAsync(string period, CancellationToken cancellationToken)
    {
        var rated = await drafter.DraftAsync(period, adjusting: null, held: new HashSet<string>(), cancellationToken);
        var held = await FailingAsync(period, cancellationToken);
        var issued = await IssueDraftsAsync(period, t => !held.Contains(t), cancellationToken);
        await using var session = store.LightweightSession();
        session.Store(new ClosedPeriod(period, time.GetUtcNow(), held.Order(StringComparer.Ordinal).ToList()));
        await session.SaveChangesAsync(cancellationToken);
        if (held.Count > 0)
        {
            LogHeld(logger, period, held.Count);
        }

        return new CloseResult([period], rated.Drafted, issued, rated.Failures);
    }

    /// <summary>Rates the held tenants of every closed month again and issues the invoice of each one that rates.</summary>
    public async Task<CloseResult> FinishHeldAsync(CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var (periods, drafted, issued, failures) = (new List<string>(), 0, 0, new List<RatingFailure>());

        // Closed months are one a month: reading them all is cheap.
        foreach (var closed in (await session.Query<ClosedPeriod>().ToListAsync(cancellationToken)).Where(p => p.Held is { Count: > 0 }))
        {
            var held = closed.Held!.ToHashSet();
            var rated = await drafter.RetryAsync(closed.Id, held, cancellationToken);
            var stillFailing = await FailingAsync(closed.Id, cancellationToken);
            issued += await IssueDraftsAsync(closed.Id, t => held.Contains(t) && !stillFailing.Contains(t), cancellationToken);
            (drafted, failures) = (drafted + rated.Drafted, [.. failures, .. rated.Failures]);
            periods.Add(closed.Id);

            // Issued before unheld: a run stopped in between finds them held, rates them (an issued invoice stays as it is) and unholds them.
            session.Store(closed with { Held = held.Where(stillFailing.Contains).Order(StringComparer.Ordinal).ToList() });
        }

        await session.SaveChangesAsync(cancellationToken);
        return new CloseResult(periods, drafted, issued, failures);
    }

    /// <summary>
    /// The tenants whose rating of the period fails: a failure is deleted only by the draft that rates
    /// the tenant, so a draft lost to a racing writer is not taken for a success.
    /// </summary>
    private async Task<HashSet<string>> FailingAsync(string period, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return (await session.Query<RatingFailure>().Where(f => f.Period == period).Select(f => f.TenantId).ToListAsync(cancellationToken)).ToHashSet();
    }

    /// <summary>Issues the period's drafts of the tenants <paramref name="issue"/> picks, in tenant order; returns how many.</summary>
    private async Task<int> IssueDraftsAsync(string period, Func<string, bool> issue, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var drafts = (await session.Query<Invoice>().Where(i => i.Period == period && i.Status == InvoiceStatus.Draft)
                .OrderBy(i => i.TenantId).Select(i => new { i.Id, i.TenantId }).ToListAsync(cancellationToken))
            .Where(d => issue(d.TenantId)).Select(d => d.Id).ToList();
        await issuer.IssueAsync(drafts, cancellationToken);
        return drafts.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed {Period} with {Held} invoices held back: their rating fails; each run rates them again and issues each that rates.")]
    private static partial void LogHeld(ILogger logger, string period, int held);
}

/// <summary>What closing (or finishing) months did: the months, drafts changed, invoices issued, tenants that could not be rated.</summary>
public sealed record CloseResult(IReadOnlyList<string> Periods, int Drafted, int Issued, IReadOnlyList<RatingFailure> Failures);
