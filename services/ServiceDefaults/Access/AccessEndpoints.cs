using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Marten;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.ServiceDefaults.Access;

public sealed record CreateTenant(string? Name);

public sealed record TenantCreated(string TenantId, string Name, string ApiKey);

public sealed record IssueKey(string? Role, string? Name);

public sealed record KeyIssued(string KeyId, string Role, string Name, string Key);

/// <summary>Tenants and staff keys: ops only.</summary>
public static class AccessEndpoints
{
    public static void MapAccess(this IEndpointRouteBuilder endpoints)
    {
        var ops = endpoints.MapGroup("/v1").RequireAuthorization(Policies.Ops);
        ops.MapPost("/tenants", CreateTenantAsync);
        ops.MapPost("/keys", IssueKeyAsync);
        ops.MapDelete("/keys/{keyId}", RevokeKeyAsync);
    }

    private static async Task<IResult> CreateTenantAsync(CreateTenant request, IDocumentSession session, KeyIssuer issuer, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            return Problems.Invalid("A tenant needs a name of 1 to 200 characters.");
        }

        var tenant = new Tenant($"t-{Guid.NewGuid():N}"[..14], request.Name.Trim(), time.GetUtcNow());
        session.Insert(tenant);
        var (_, secret) = issuer.Issue(session, Roles.Tenant, tenant.Name, tenantId: tenant.Id);
        await session.SaveChangesAsync();
        return Results.Created($"/v1/tenants/{tenant.Id}", new TenantCreated(tenant.Id, tenant.Name, secret));
    }

    private static async Task<IResult> IssueKeyAsync(IssueKey request, IDocumentSession session, KeyIssuer issuer)
    {
        if (request.Role is not (Roles.Finance or Roles.Ops) || string.IsNullOrWhiteSpace(request.Name))
        {
            return Problems.Invalid("A staff key needs a role ('finance' or 'ops') and a name.");
        }

        var (key, secret) = issuer.Issue(session, request.Role, request.Name.Trim());
        await session.SaveChangesAsync();
        return Results.Created($"/v1/keys/{key.KeyId}", new KeyIssued(key.KeyId, key.Role, key.Name, secret));
    }

    private static async Task<IResult> RevokeKeyAsync(
        string keyId, IDocumentSession session, IMemoryCache keys, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        if (keyId.Length != 12)
        {
            return Problems.NotFound($"No key '{keyId}'.");
        }

        var key = await session.Query<ApiKey>().Where(k => k.Id.StartsWith(keyId)).SingleOrDefaultAsync();
        if (key is null)
        {
            return Problems.NotFound($"No key '{keyId}'.");
        }

        session.Store(key with { RevokedAt = key.RevokedAt ?? time.GetUtcNow() });
        await session.SaveChangesAsync();

        // This host stops trusting it now; other hosts once their cached copy expires (CacheFor).
        keys.Remove(key.Id);
        return Results.NoContent();
    }
}
