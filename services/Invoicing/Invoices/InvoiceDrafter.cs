using Billing.Invoicing.Audit;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Rolls usage and commitments into each tenant's draft invoice, with adjustment lines for late
/// usage of an issued month. Incremental: only tenants whose usage, commitments or prices changed
/// since the last run are rated again, each from its hours. A draft changes only when its lines do;
/// the append carries the version it was computed from, so racing writers cannot both write; issued
/// invoices are never touched.
/// </summary>
public sealed partial class InvoiceDrafter(
    IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time, InvoicingMetrics metrics, ILogger<InvoiceDrafter> logger)
{
    /// <summary>Tenants rated per read of their hours: bounds memory whatever the month's size.</summary>
    private const int TenantsPerRead = 500;

    private const int DraftsAtOnce = 4;

    /// <summary>
    /// Re-rates the drafts of <paramref name="period"/> whose inputs changed; with
    /// <paramref name="adjusting"/> (an issued period) it also carries what those invoices missed,
    /// except for the <paramref name="held"/> tenants of that period (their own invoice of it is not
    /// issued yet and will bill the usage). Callers run one at a time (the job's lock).
    /// </summary>
    public Task<DraftResult> DraftAsync(string period, string? adjusting, IReadOnlySet<string> held, CancellationToken cancellationToken) =>
        DraftAsync(period, adjusting, held, only: null, cancellationToken);

    /// <summary>Rates the given tenants' drafts of <paramref name="period"/> again, whatever changed: the invoices a close held back.</summary>
    public Task<DraftResult> RetryAsync(string period, IReadOnlySet<string> tenantIds, CancellationToken cancellationToken) =>
        DraftAsync(period, adjusting: null, held: new HashSet<string>(), only: tenantIds, cancellationToken);

    private async Task<DraftResult> DraftAsync(
        string period, string? adjusting, IReadOnlySet<string> held, IReadOnlySet<string>? only, CancellationToken cancellationToken)
    {
        await using var query = store.QuerySession();

        // Prices before usage: a price published after this read is new to the next run, which re-rates the usage it applies to.
        var prices = await PriceHistory.LoadAsync(query, cancellationToken);
        var spot = await SpotPriceHistory.LoadAsync(query, prices.Versions.SelectMany(v => v.Skus.Keys).Distinct(), cancellationToken);
        var own = await RatingScope.LoadAsync(query, period, period, prices, spot, cancellationToken);
        own = only is null ? own : own.Only(only);
        var late = adjusting is null ? null : await RatingScope.LoadAsync(query, period, adjusting, prices, spot, cancellationToken);
        var currency = prices.At(BillingPeriod.Bounds(period).Start).Currency;
        var (changed, handled) = (0, 0);
        var failures = new List<RatingFailure>();
        foreach (var tenantIds in own.Changed.Union(late?.Changed ?? Enumerable.Empty<string>()).Order(StringComparer.Ordinal).Chunk(TenantsPerRead))
        {
            var rerated = await RateAsync(query, own, tenantIds, failures, cancellationToken);
            if (late is not null)
            {
                rerated.AddRange(await AdjustmentsAsync(query, late, tenantIds, held, failures, cancellationToken));
            }

            // Each tenant's draft is its own transaction on its own stream: a few at once keep the database busy.
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = DraftsAtOnce, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(rerated.GroupBy(r => r.TenantId), parallel, async (tenant, ct) =>
            {
                var outcome = await DraftTenantAsync(tenant.Key, period, currency, tenant.ToList(), ct);
                Interlocked.Add(ref changed, outcome == Outcome.Drafted ? 1 : 0);
                Interlocked.Add(ref handled, outcome == Outcome.Conflict ? 0 : tenant.Count());
            });
        }

        await RecordAsync(failures, cancellationToken);

        // The prices count as seen only once every changed tenant was rated and stored: a tenant left
        // out (unrateable, or a lost race) must still be found by the price change next run.
        if (only is not null || handled < own.Changed.Count + (late?.Changed.Count ?? 0))
        {
            return new DraftResult(changed, failures);
        }

        await using var session = store.LightweightSession();
        session.Store(own.PricesSeen());
        if (late is not null)
        {
            session.Store(late.PricesSeen());
        }

        await session.SaveChangesAsync(cancellationToken);
        return new DraftResult(changed, failures);
    }

    private enum Outcome
    {
        Drafted,
        Unchanged,
        Issued,
        Conflict,
    }

    /// <summary>A tenant's lines for one scope of its invoice, and what they were rated from.</summary>
    private sealed record Rerated(string TenantId, RatingScope Scope, IReadOnlyList<InvoiceLine> Lines, RatingCheckpoint Checkpoint);

    private async Task<List<Rerated>> RateAsync(
        IQuerySession session, RatingScope scope, string[] tenantIds, List<RatingFailure> failures, CancellationToken cancellationToken)
    {
        var changed = tenantIds.Where(scope.Changed.Contains).ToArray();
        var inputs = await scope.InputsAsync(session, changed, cancellationToken);
        var rated = new List<Rerated>();
        foreach (var tenantId in changed)
        {
            if (Isolated(tenantId, scope.RatedPeriod, () => new Rerated(tenantId, scope, inputs.Lines(tenantId), scope.CheckpointFor(tenantId, inputs)), failures) is { } r)
            {
                rated.Add(r);
            }
        }

        return rated;
    }

    /// <summary>What the issued invoices of the scope's period missed: re-rated now, less what they billed.</summary>
    private async Task<IEnumerable<Rerated>> AdjustmentsAsync(
        IQuerySession session, RatingScope scope, string[] tenantIds, IReadOnlySet<string> held, List<RatingFailure> failures, CancellationToken cancellationToken)
    {
        // A period's invoice held back at its close will bill the usage itself, once it rates.
        var rerated = await RateAsync(session, scope, tenantIds.Where(t => !held.Contains(t)).ToArray(), failures, cancellationToken);
        var invoices = (await session.LoadManyAsync<Invoice>(cancellationToken, rerated.Select(r => Invoice.IdFor(r.TenantId, scope.RatedPeriod))))
            .ToDictionary(i => i.TenantId);

        // A period's invoice not issued yet will bill the usage itself.
        return rerated
            .Where(r => invoices.GetValueOrDefault(r.TenantId) is null or { Status: InvoiceStatus.Issued })
            .Select(r => Isolated(r.TenantId, scope.RatedPeriod,
                () => r with { Lines = Rating.Adjustments(r.Lines, invoices.GetValueOrDefault(r.TenantId)?.Lines ?? [], scope.RatedPeriod) }, failures))
            .OfType<Rerated>()
            .ToList();
    }

    /// <summary>
    /// Rates one tenant, or records why it cannot be: whatever one tenant's data makes rating throw
    /// (an unpriced SKU, an absurd quantity, a bug it alone meets) must not hold back everyone's invoices.
    /// </summary>
    private Rerated? Isolated(string tenantId, string period, Func<Rerated> rate, List<RatingFailure> failures)
    {
        try
        {
            return rate();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failures.Add(RatingFailure.Of(tenantId, period, ex, time.GetUtcNow()));
            return null;
        }
    }

    /// <summary>
    /// Keeps each failure (since when it fails) until a draft rates the tenant and deletes it. Each
    /// tenant's problem is logged when new or changed, and the run's count every run: an unpriced SKU
    /// used by thousands of tenants logs each once, not each minute.
    /// </summary>
    private async Task RecordAsync(List<RatingFailure> failures, CancellationToken cancellationToken)
    {
        if (failures.Count == 0)
        {
            return;
        }

        await using var session = store.LightweightSession();
        var known = (await session.LoadManyAsync<RatingFailure>(cancellationToken, failures.Select(f => f.Id))).ToDictionary(f => f.Id);
        foreach (var failure in failures)
        {
            var before = known.GetValueOrDefault(failure.Id);
            if (before?.Problem != failure.Problem)
            {
                LogUnrated(logger, failure.TenantId, failure.Period, failure.Problem);
            }

            session.Store(failure with { Since = before?.Since ?? failure.Since });
        }

        await session.SaveChangesAsync(cancellationToken);
        LogStillUnrated(logger, failures.Count);
    }

    private async Task<Outcome> DraftTenantAsync(string tenantId, string period, string currency, IReadOnlyList<Rerated> rerated, CancellationToken cancellationToken)
    {
        var id = Invoice.IdFor(tenantId, period);
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<Invoice>(id, cancellationToken);
        var current = stream.Aggregate;

        // Rated now: a failure of these periods is resolved with this draft, in its transaction.
        foreach (var scope in rerated.Where(r => r.Scope.Failed.Contains(tenantId)))
        {
            session.Delete<RatingFailure>(RatingFailure.IdFor(tenantId, scope.Scope.RatedPeriod));
        }

        if (current is not null and not { Status: InvoiceStatus.Draft })
        {
            // Issued: its checkpoint stays what its lines were rated from, the baseline of later adjustments.
            await session.SaveChangesAsync(cancellationToken);
            return Outcome.Issued;
        }

        // Version-checked, though runs take turns: should two ever overlap (a lock's connection
        // lost), two writing a tenant at once fail one. Lines and checkpoint are written together,
        // so a stale run that writes last is rated again by the next run (its revision is behind).
        foreach (var scope in rerated)
        {
            session.InsertOrUpdate(scope.Checkpoint, existed: await session.LoadAsync<RatingCheckpoint>(scope.Checkpoint.Id, cancellationToken) is not null);
        }

        var lines = Merge(period, current?.Lines ?? [], rerated);
        var draft = current is null

            // No invoice for a tenant with nothing to charge (health credits alone are not a bill).
            ? lines.Any(l => l.GpuSeconds != 0 || l.Amount != 0)
            : !current.Lines.SequenceEqual(lines);
        if (draft)
        {
            stream.AppendOne(new InvoiceDrafted(id, tenantId, period, currency, lines, Rating.Total(lines), time.GetUtcNow()));
        }

        try
        {
            await session.SaveChangesAsync(cancellationToken);
            if (draft)
            {
                metrics.Drafted();
            }

            return draft ? Outcome.Drafted : Outcome.Unchanged;
        }
        catch (Exception ex) when (WriteConflicts.IsConflict(ex))
        {
            // Issued (or drafted) meanwhile; without the checkpoint, the next run rates the tenant again.
            return Outcome.Conflict;
        }
    }

    /// <summary>The invoice's lines with each re-rated scope's part replaced: its own usage first, then adjustments by period.</summary>
    private static List<InvoiceLine> Merge(string period, IReadOnlyList<InvoiceLine> current, IEnumerable<Rerated> rerated)
    {
        var parts = current.GroupBy(l => l.AdjustsPeriod ?? period).ToDictionary(g => g.Key, g => (IReadOnlyList<InvoiceLine>)g.ToList());
        foreach (var scope in rerated)
        {
            parts[scope.Scope.RatedPeriod] = scope.Lines;
        }

        return parts.OrderBy(p => p.Key == period ? "" : p.Key, StringComparer.Ordinal).SelectMany(p => p.Value).ToList();
    }

    // The problem, not the exception: its message can quote stored request text, and RatingFailure.Describe cleans it.
    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId}'s usage of {Period} cannot be rated ({Problem}); its invoice is left as it was, and every run tries again.")]
    private static partial void LogUnrated(ILogger logger, string tenantId, string period, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} tenant-months cannot be rated this run; their invoices are left as they were (GET /v1/invoicing/runs, GET /v1/reconciliation).")]
    private static partial void LogStillUnrated(ILogger logger, int count);
}

/// <summary>What a draft run did: how many drafts changed, and the tenants it could not rate.</summary>
public sealed record DraftResult(int Drafted, IReadOnlyList<RatingFailure> Failures);
