using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Marten;

namespace Billing.ServiceDefaults.Access;

/// <summary>Issues keys: the secret is returned once and never stored.</summary>
public sealed class KeyIssuer([FromKeyedServices(BillingClock.Key)] TimeProvider time)
{
    public (ApiKey Key, string Secret) Issue(IDocumentSession session, string role, string name, string? tenantId = null, string? nodeId = null)
    {
        var secret = KeySecrets.NewSecret(role);
        var key = new ApiKey(KeySecrets.Hash(secret), role, name, tenantId, nodeId, time.GetUtcNow());
        session.Insert(key);
        return (key, secret);
    }
}
