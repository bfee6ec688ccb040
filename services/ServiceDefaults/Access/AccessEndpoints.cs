using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Marten;
using Microsoft.Extensions.Caching.Memory;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.ServiceDefaults.Access;

public sealed record CreateTenant(string? Name);

public sealed class CreateTenantValidator : AbstractValidator<CreateTenant>
{
    public CreateTenantValidator() => RuleFor(r => r.Name).Name();
}

public sealed record TenantCreated(string TenantId, string Name, string ApiKey);

public sealed record IssueKey(string? Role, string? Name);

public sealed class IssueKeyValidator : AbstractValidator<IssueKey>
{
    public IssueKeyValidator()
    {
        RuleFor(r => r.Role).Must(r => r is Roles.Finance or Roles.Ops or Roles.Ingest).WithMessage($"'{Roles.Finance}', '{Roles.Ops}' or '{Roles.Ingest}'.");
        RuleFor(r => r.Name).Name();
    }
}

public sealed record KeyIssued(string KeyId, string Role, string Name, string Key);

/// <summary>A key as listed: never its secret or its hash.</summary>
public sealed record KeyView(string KeyId, string Role, string Name, string? TenantId, string? NodeId, DateTimeOffset IssuedAt, DateTimeOffset? RevokedAt)
{
    public static KeyView Of(ApiKey key) => new(key.KeyId, key.Role, key.Name, key.TenantId, key.NodeId, key.IssuedAt, key.RevokedAt);
}

/// <summary>Tenants and staff keys: ops only.</summary>
public static class AccessEndpoints
{
    public static void MapAccess(this IEndpointRouteBuilder endpoints)
    {
        var ops = endpoints.MapGroup("/v1").RequireAuthorization(Policies.Ops);
        ops.MapPost("/tenants", CreateTenantAsync);
        ops.MapGet("/tenants", ListTenantsAsync);
        ops.MapPost("/keys", IssueKeyAsync);
        ops.MapGet("/keys", ListKeysAsync).Produces<IEnumerable<KeyView>>();
        ops.MapGet("/keys/{keyId}", GetKeyAsync);
        ops.MapDelete("/keys/{keyId}", RevokeKeyAsync);
        endpoints.MapGet("/v1/tenants/{tenantId}", GetTenantAsync).RequireAuthorization(Policies.TenantOrStaff);
    }

    /// <summary>Ops any tenant, finance any tenant, a tenant key only itself.</summary>
    private static async Task<Results<Ok<Tenant>, ProblemHttpResult>> GetTenantAsync(string tenantId, ClaimsPrincipal user, IQuerySession session) =>
        user.ReadableTenant(tenantId) == tenantId && await session.LoadAsync<Tenant>(tenantId) is { } tenant
            ? TypedResults.Ok(tenant)
            : Problems.NotFound($"No tenant '{tenantId}'.");

    private static async Task<Ok<IReadOnlyList<Tenant>>> ListTenantsAsync(IQuerySession session) =>
        TypedResults.Ok(await session.Query<Tenant>().OrderBy(t => t.CreatedAt).ToListAsync());

    /// <summary>Staff keys by default; <c>?role=</c> lists another role's (tenant and node keys too).</summary>
    private static async Task<IResult> ListKeysAsync(IQuerySession session, string? role)
    {
        if (role is not null && role is not (Roles.Finance or Roles.Ops or Roles.Tenant or Roles.Node or Roles.Ingest))
        {
            return Problems.Invalid("The key query is invalid.", new Dictionary<string, string[]> { ["role"] = ["One of finance, ops, ingest, tenant, node."] });
        }

        var keys = role is null
            ? session.Query<ApiKey>().Where(k => k.Role == Roles.Finance || k.Role == Roles.Ops)
            : session.Query<ApiKey>().Where(k => k.Role == role);
        return Results.Ok((await keys.OrderBy(k => k.IssuedAt).ToListAsync()).Select(KeyView.Of));
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> GetKeyAsync(string keyId, IQuerySession session) =>
        await FindKeyAsync(session, keyId) is { } key ? TypedResults.Ok(KeyView.Of(key)) : Problems.NotFound($"No key '{keyId}'.");

    /// <summary>A key id is the first 12 characters of its hash (hex): enough to name it, useless to sign in.</summary>
    private static async Task<ApiKey?> FindKeyAsync(IQuerySession session, string keyId) =>
        keyId.Length == 12 && keyId.All(char.IsAsciiHexDigitLower)
            ? await session.Query<ApiKey>().Where(k => k.Id.StartsWith(keyId)).SingleOrDefaultAsync()
            : null;

    private static async Task<Created<TenantCreated>> CreateTenantAsync(CreateTenant request, IDocumentSession session, KeyIssuer issuer, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        var tenant = new Tenant($"t-{Guid.NewGuid():N}"[..14], request.Name!.Trim(), time.GetUtcNow());
        session.Insert(tenant);
        var (_, secret) = issuer.Issue(session, Roles.Tenant, tenant.Name, tenantId: tenant.Id);
        await session.SaveChangesAsync();
        return TypedResults.Created($"/v1/tenants/{tenant.Id}", new TenantCreated(tenant.Id, tenant.Name, secret));
    }

    private static async Task<Created<KeyIssued>> IssueKeyAsync(IssueKey request, IDocumentSession session, KeyIssuer issuer)
    {
        var (key, secret) = issuer.Issue(session, request.Role!, request.Name!.Trim());
        await session.SaveChangesAsync();
        return TypedResults.Created($"/v1/keys/{key.KeyId}", new KeyIssued(key.KeyId, key.Role, key.Name, secret));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeKeyAsync(
        string keyId, IDocumentSession session, IMemoryCache keys, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        var key = await FindKeyAsync(session, keyId);
        if (key is null)
        {
            return Problems.NotFound($"No key '{keyId}'.");
        }

        session.Store(key with { RevokedAt = key.RevokedAt ?? time.GetUtcNow() });
        await session.SaveChangesAsync();

        // This host stops trusting it now; other hosts once their cached copy expires (CacheFor).
        keys.Remove(key.Id);
        return TypedResults.NoContent();
    }
}
