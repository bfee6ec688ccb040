using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Invoicing.Jobs;

/// <summary>
/// Keeps drafts current and closes months: until the previous month's end plus the grace, both
/// months are drafts; after it, the previous month is closed (<see cref="MonthClose"/>), and usage
/// that arrives later for it goes on the current month's invoice as adjustment lines. A tenant whose
/// rating fails is left out and recorded, never the run: each run is kept as an <see cref="InvoicingRun"/>.
/// </summary>
public sealed class DraftInvoicesJob(
    InvoiceDrafter drafter,
    MonthClose close,
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
        var run = new InvoicingRun(Guid.CreateVersion7(), now, now, [previous, current], 0, null, 0, 0, []);

        // Invoices held back at an earlier close first: one that rates now is issued, and its month's later usage is no adjustment.
        run = Add(run, await close.FinishHeldAsync(cancellationToken));
        if (await ClosedAsync(previous, cancellationToken) is null)
        {
            if (now < BillingPeriod.Bounds(previous).End + options.Value.FinalizationGrace)
            {
                run = Add(run, await drafter.DraftAsync(previous, adjusting: null, held: new HashSet<string>(), cancellationToken));
                run = Add(run, await drafter.DraftAsync(current, adjusting: null, held: new HashSet<string>(), cancellationToken));
                await KeepAsync(run, cancellationToken);
                return;
            }

            run = Add(run, await close.CloseAsync(previous, cancellationToken)) with { Closed = previous };
        }

        var held = (await ClosedAsync(previous, cancellationToken))?.Held ?? [];
        run = Add(run, await drafter.DraftAsync(current, adjusting: previous, held.ToHashSet(), cancellationToken));
        await KeepAsync(run, cancellationToken);
    }

    private static InvoicingRun Add(InvoicingRun run, DraftResult result) => run.With(result.Drafted, issued: 0, result.Failures);

    private static InvoicingRun Add(InvoicingRun run, CloseResult result) =>
        run.With(result.Drafted, result.Issued, result.Failures) with { Periods = run.Periods.Union(result.Periods).Order(StringComparer.Ordinal).ToList() };

    private async Task<ClosedPeriod?> ClosedAsync(string period, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<ClosedPeriod>(period, cancellationToken);
    }

    /// <summary>Stores the run, and forgets runs older than the retention (one a minute adds up).</summary>
    private async Task KeepAsync(InvoicingRun run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var forgetBefore = now - options.Value.RunRetention;
        await using var session = store.LightweightSession();
        session.Store(run with { FinishedAt = now });
        session.DeleteWhere<InvoicingRun>(r => r.StartedAt < forgetBefore);
        await session.SaveChangesAsync(cancellationToken);
    }
}
