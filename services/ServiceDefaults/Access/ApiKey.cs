namespace Billing.ServiceDefaults.Access;

/// <summary>An issued key. Only the SHA-256 of the secret is stored: keys are 256 random bits, so a fast hash is enough.</summary>
public sealed record ApiKey(string Id, string Role, string Name, string? TenantId, string? NodeId, DateTimeOffset IssuedAt, DateTimeOffset? RevokedAt = null)
{
    public string KeyId => Id[..12];
}
