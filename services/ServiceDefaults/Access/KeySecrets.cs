using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Billing.ServiceDefaults.Access;

public static class KeySecrets
{
    /// <summary>32 random bytes in unpadded base64url.</summary>
    private const int SecretChars = 43;

    private static readonly SearchValues<char> Base64UrlChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string NewSecret(string role) => $"{role}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";

    /// <summary>
    /// True when <paramref name="secret"/> has the shape <see cref="NewSecret"/> gives (a role, '_', 43
    /// base64url characters): anything else was never issued and needs no lookup.
    /// </summary>
    public static bool IsWellFormed(string secret)
    {
        var separator = secret.IndexOf('_', StringComparison.Ordinal);
        return separator > 0
            && secret[..separator] is Roles.Tenant or Roles.Node or Roles.Finance or Roles.Ops or Roles.Ingest
            && secret.Length - separator - 1 == SecretChars
            && secret.AsSpan(separator + 1).IndexOfAnyExcept(Base64UrlChars) < 0;
    }

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
