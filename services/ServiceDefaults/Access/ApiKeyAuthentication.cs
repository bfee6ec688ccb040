using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Billing.ServiceDefaults.Access;

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    public string OpsKey { get; set; } = "";

    /// <summary>How long a looked-up key is trusted before it is read again; bounds how late a revocation bites.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Bearer keys: the ops key from configuration, every other key looked up by its hash.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IQuerySession query,
    IMemoryCache cache) : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var secret = header["Bearer ".Length..].Trim();
        if (IsOpsKey(secret))
        {
            return Success(new Claim(ClaimTypes.Role, Roles.Ops), new Claim(ClaimTypes.Name, "ops"));
        }

        var hash = KeySecrets.Hash(secret);
        var key = await cache.GetOrCreateAsync(hash, entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = Options.CacheFor;
            return query.LoadAsync<ApiKey>(hash, Context.RequestAborted);
        });
        if (key is null || key.RevokedAt is not null)
        {
            return AuthenticateResult.Fail("Unknown or revoked key.");
        }

        var claims = new List<Claim> { new(ClaimTypes.Role, key.Role), new(ClaimTypes.Name, key.Name) };
        if (key.TenantId is not null)
        {
            claims.Add(new Claim(Roles.TenantIdClaim, key.TenantId));
        }

        if (key.NodeId is not null)
        {
            claims.Add(new Claim(Roles.NodeIdClaim, key.NodeId));
        }

        return Success([.. claims]);
    }

    private bool IsOpsKey(string secret) =>
        Options.OpsKey.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(Options.OpsKey));

    private static AuthenticateResult Success(params Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
}
