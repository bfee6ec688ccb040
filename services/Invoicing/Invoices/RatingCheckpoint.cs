namespace Billing.Invoicing.Invoices;

/// <summary>
/// What a tenant's usage of <see cref="RatedPeriod"/> was last rated from for its invoice of
/// <see cref="InvoicePeriod"/> (the same period, or the next one's adjustments): stored with the draft,
/// in its transaction, so a run re-rates only tenants whose usage or commitments moved since.
/// </summary>
public sealed record RatingCheckpoint(
    string Id, string TenantId, string InvoicePeriod, string RatedPeriod, long UsageRevision, IReadOnlyList<Guid> Commitments)
{
    public static string IdFor(string tenantId, string invoicePeriod, string ratedPeriod) => $"{tenantId}|{invoicePeriod}|{ratedPeriod}";
}

/// <summary>
/// How many price book versions and spot prices per SKU the last run rated a scope with: a price
/// published since re-rates the tenants with usage at or after it takes effect.
/// </summary>
public sealed record PriceCheckpoint(string Id, int BookVersions, IReadOnlyDictionary<string, int> SpotChanges)
{
    public static string IdFor(string invoicePeriod, string ratedPeriod) => $"{invoicePeriod}|{ratedPeriod}";
}
