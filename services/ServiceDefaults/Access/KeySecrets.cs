using System.Security.Cryptography;
using System.Text;

namespace Billing.ServiceDefaults.Access;

public static class KeySecrets
{
    public static string NewSecret(string role) => $"{role}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
