using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Leasing;

/// <summary>A lease and the key of the tenant that holds it, which every call about it needs.</summary>
public sealed record TenantLease(string TenantKey, Lease Lease)
{
    public string LeaseId => Lease.LeaseId;
}
