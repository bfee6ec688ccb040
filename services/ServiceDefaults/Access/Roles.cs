namespace Billing.ServiceDefaults.Access;

public static class Roles
{
    public const string Ops = "ops";
    public const string Finance = "finance";
    public const string Tenant = "tenant";
    public const string Node = "node";

    /// <summary>A model gateway reporting usage events for any tenant (POST /v1/events only).</summary>
    public const string Ingest = "ingest";

    public const string TenantIdClaim = "tenant_id";
    public const string NodeIdClaim = "node_id";
}
