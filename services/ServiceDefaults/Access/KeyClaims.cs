using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Billing.ServiceDefaults.Access;

/// <summary>Why a key was refused, or <see cref="None"/> when it was accepted.</summary>
public enum KeyRefusal
{
    None,
    Malformed,
    Unknown,
    Revoked,
}

/// <summary>What a key proves: its claims when accepted; the refusal and the hash's first characters otherwise.</summary>
public sealed record KeyCheck(IReadOnlyList<Claim> Claims, KeyRefusal Refusal, string? KeyId = null);

/// <summary>
/// The claims a key gives its caller (role, name, key id, tenant or node), from the ops key in
/// configuration or the issued keys by hash. One lookup for the API's bearer scheme and the consoles' sign-in,
/// so a console session carries exactly what the same key would carry on the API.
/// </summary>
public sealed class KeyClaims(KnownKeys keys, IOptionsMonitor<ApiKeyAuthenticationOptions> options)
{
    public async Task<KeyCheck> CheckAsync(string secret)
    {
        var settings = options.Get(ApiKeyAuthenticationHandler.SchemeName);
        if (IsOpsKey(settings.OpsKey, secret))
        {
            return new KeyCheck([new Claim(ClaimTypes.Role, Roles.Ops), new Claim(ClaimTypes.Name, "ops"), new Claim(ClaimTypes.NameIdentifier, "ops")], KeyRefusal.None);
        }

        if (!KeySecrets.IsWellFormed(secret))
        {
            return new KeyCheck([], KeyRefusal.Malformed);
        }

        var hash = KeySecrets.Hash(secret);
        var key = await keys.FindAsync(hash, settings.CacheFor, settings.UnknownCacheFor);
        if (key is null || key.RevokedAt is not null)
        {
            return new KeyCheck([], key is null ? KeyRefusal.Unknown : KeyRefusal.Revoked, hash[..12]);
        }

        var claims = new List<Claim> { new(ClaimTypes.Role, key.Role), new(ClaimTypes.Name, key.Name), new(ClaimTypes.NameIdentifier, key.Id) };
        if (key.TenantId is not null)
        {
            claims.Add(new Claim(Roles.TenantIdClaim, key.TenantId));
        }

        if (key.NodeId is not null)
        {
            claims.Add(new Claim(Roles.NodeIdClaim, key.NodeId));
        }

        return new KeyCheck(claims, KeyRefusal.None);
    }

    /// <summary>Whether the key whose claims carry this id (the hash, or "ops") is still accepted: a session outlives no revocation.</summary>
    public async Task<bool> IsLiveAsync(string keyId)
    {
        var settings = options.Get(ApiKeyAuthenticationHandler.SchemeName);
        if (keyId == "ops")
        {
            return settings.OpsKey.Length > 0;
        }

        return await keys.FindAsync(keyId, settings.CacheFor, settings.UnknownCacheFor) is { RevokedAt: null };
    }

    private static bool IsOpsKey(string opsKey, string secret) =>
        opsKey.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(opsKey));
}
