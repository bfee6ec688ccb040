namespace Billing.Ledger.Usage;

/// <summary>
/// How many times a tenant's usage of a period has changed: raised in every transaction that stores
/// windows of it, so invoicing re-rates only the tenants whose revision moved since it last rated them.
/// </summary>
public sealed class UsageRevision
{
    public string Id { get; set; } = "";

    public string TenantId { get; set; } = "";

    public string Period { get; set; } = "";

    public long Revision { get; set; }

    public static string IdFor(string tenantId, string period) => $"{tenantId}|{period}";
}
