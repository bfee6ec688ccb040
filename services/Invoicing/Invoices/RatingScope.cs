using Billing.Contracts;
using Billing.Invoicing.Commitments;
using Billing.Ledger;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Pricing;
using Marten;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// Rating <see cref="RatedPeriod"/>'s usage for the invoices of <see cref="InvoicePeriod"/> (its own,
/// or the next period's adjustments): which tenants changed since a run last rated them (usage
/// revision, commitments, or a price published since that applies to their usage), and their inputs.
/// A run's cost follows the tenants that changed, each rated from its hours, never the raw windows.
/// </summary>
public sealed class RatingScope
{
    private readonly ILookup<string, Commitment> commitments;
    private readonly PriceHistory prices;
    private readonly SpotPrices spot;

    private RatingScope(
        string invoicePeriod, string ratedPeriod, ILookup<string, Commitment> commitments, PriceHistory prices, SpotPrices spot, IReadOnlySet<string> changed,
        IReadOnlySet<string> failed)
    {
        (InvoicePeriod, RatedPeriod, Changed, Failed) = (invoicePeriod, ratedPeriod, changed, failed);
        (this.commitments, this.prices, this.spot) = (commitments, prices, spot);
    }

    public string InvoicePeriod { get; }

    public string RatedPeriod { get; }

    /// <summary>Tenants to rate again.</summary>
    public IReadOnlySet<string> Changed { get; }

    /// <summary>Tenants whose rating of the period failed when last tried (a <see cref="RatingFailure"/> each).</summary>
    public IReadOnlySet<string> Failed { get; }

    /// <summary>
    /// Finds the changed tenants. <paramref name="prices"/> and <paramref name="spot"/> must have
    /// been read before any usage: a price published after that read is then new to the next run.
    /// </summary>
    public static async Task<RatingScope> LoadAsync(
        IQuerySession session, string invoicePeriod, string ratedPeriod, PriceHistory prices, SpotPrices spot, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(ratedPeriod);
        var revisions = await new MartenRatableUsage(session).RevisionsAsync(ratedPeriod, cancellationToken);
        var rated = await CheckpointsAsync(session, ratedPeriod, ratedPeriod, cancellationToken);
        var pricesSeen = await session.LoadAsync<PriceCheckpoint>(PriceCheckpoint.IdFor(ratedPeriod, ratedPeriod), cancellationToken);
        if (invoicePeriod != ratedPeriod)
        {
            // Until a tenant's adjustments are first rated, what its issued invoice was rated from is the baseline.
            foreach (var (tenantId, checkpoint) in await CheckpointsAsync(session, invoicePeriod, ratedPeriod, cancellationToken))
            {
                rated[tenantId] = checkpoint;
            }

            pricesSeen = await session.LoadAsync<PriceCheckpoint>(PriceCheckpoint.IdFor(invoicePeriod, ratedPeriod), cancellationToken) ?? pricesSeen;
        }

        var commitments = (await session.Query<Commitment>().Where(c => c.StartsAt < end && c.EndsAt > start).ToListAsync(cancellationToken))
            .ToLookup(c => c.TenantId);

        // A tenant whose rating failed is tried again every run, whatever changed, until a draft rates it.
        var failed = (await session.Query<RatingFailure>().Where(f => f.Period == ratedPeriod).Select(f => f.TenantId).ToListAsync(cancellationToken)).ToHashSet();
        var changed = revisions.Where(r => !rated.TryGetValue(r.Key, out var seen) || seen.UsageRevision < r.Value).Select(r => r.Key)
            .Concat(commitments.Where(c => !rated.TryGetValue(c.Key, out var seen) || !seen.Commitments.SequenceEqual(IdsOf(c))).Select(c => c.Key))
            .Concat(await RepricedAsync(session, ratedPeriod, pricesSeen, prices, spot, commitments, cancellationToken))
            .Concat(failed)
            .ToHashSet();
        return new RatingScope(invoicePeriod, ratedPeriod, commitments, prices, spot, changed, failed);
    }

    /// <summary>The same scope rating just <paramref name="tenantIds"/>, changed or not.</summary>
    public RatingScope Only(IReadOnlySet<string> tenantIds) => new(InvoicePeriod, RatedPeriod, commitments, prices, spot, tenantIds, Failed);

    /// <summary>Rating inputs of some of the changed tenants, from their hours.</summary>
    public Task<RatingInputs> InputsAsync(IQuerySession session, string[] tenantIds, CancellationToken cancellationToken) =>
        RatingInputs.FromHoursAsync(session, RatedPeriod, tenantIds, commitments, prices, spot, cancellationToken);

    /// <summary>What the tenant was rated from; store it with the draft its lines went into.</summary>
    public RatingCheckpoint CheckpointFor(string tenantId, RatingInputs inputs) =>
        new(RatingCheckpoint.IdFor(tenantId, InvoicePeriod, RatedPeriod), tenantId, InvoicePeriod, RatedPeriod,
            inputs.RevisionOf(tenantId), IdsOf(commitments[tenantId]));

    /// <summary>The prices this scope rated with; store it once the run's drafts are written.</summary>
    public PriceCheckpoint PricesSeen() =>
        new(PriceCheckpoint.IdFor(InvoicePeriod, RatedPeriod), prices.Versions.Count, spot.Skus.ToDictionary(sku => sku, sku => spot.EffectiveTimes(sku).Count));

    private static async Task<Dictionary<string, RatingCheckpoint>> CheckpointsAsync(
        IQuerySession session, string invoicePeriod, string ratedPeriod, CancellationToken cancellationToken) =>
        (await session.Query<RatingCheckpoint>().Where(c => c.InvoicePeriod == invoicePeriod && c.RatedPeriod == ratedPeriod).ToListAsync(cancellationToken))
            .ToDictionary(c => c.TenantId);

    private static List<Guid> IdsOf(IEnumerable<Commitment> commitments) => commitments.Select(c => c.Id).Order().ToList();

    /// <summary>Tenants whose usage a price published since <paramref name="seen"/> applies to.</summary>
    private static async Task<IEnumerable<string>> RepricedAsync(
        IQuerySession session, string period, PriceCheckpoint? seen, PriceHistory prices, SpotPrices spot, ILookup<string, Commitment> commitments,
        CancellationToken cancellationToken)
    {
        // A price taking effect after the period ends prices nothing in it.
        var end = BillingPeriod.Bounds(period).End;
        var tenants = new List<string>();
        if (NewSince(prices.Versions.Select(v => v.EffectiveAt).ToList(), seen?.BookVersions ?? 0) is { } bookFrom && bookFrom < end)
        {
            // A commitment line is priced by the book, whether used or not.
            tenants.AddRange(await TenantsWithUsageAsync(session, period, bookFrom, spotSku: null, cancellationToken));
            tenants.AddRange(commitments.Select(c => c.Key));
        }

        foreach (var sku in spot.Skus)
        {
            if (NewSince(spot.EffectiveTimes(sku), seen?.SpotChanges.GetValueOrDefault(sku) ?? 0) is { } spotFrom && spotFrom < end)
            {
                tenants.AddRange(await TenantsWithUsageAsync(session, period, spotFrom, sku, cancellationToken));
            }
        }

        return tenants;
    }

    /// <summary>
    /// From when prices published after the first <paramref name="seen"/> apply; null if none were.
    /// The first price of a kind applies to the usage before it too, so it touches all usage.
    /// </summary>
    private static DateTimeOffset? NewSince(IReadOnlyList<DateTimeOffset> effective, int seen) =>
        seen >= effective.Count ? null : seen == 0 ? DateTimeOffset.MinValue : effective.Skip(seen).Min();

    private static Task<IReadOnlyList<string>> TenantsWithUsageAsync(
        IQuerySession session, string period, DateTimeOffset from, string? spotSku, CancellationToken cancellationToken) =>
        new MartenRatableUsage(session).TenantsWithUsageAsync(period, from, spotSku, cancellationToken);
}
