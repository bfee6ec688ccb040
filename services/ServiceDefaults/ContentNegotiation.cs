using Microsoft.AspNetCore.Http;

namespace Billing.ServiceDefaults;

public static class ContentNegotiation
{
    /// <summary>True when the request's Accept header names <paramref name="mediaType"/> (JSON stays the default).</summary>
    public static bool Accepts(this HttpRequest request, string mediaType) =>
        request.Headers.Accept.Any(a => a?.Contains(mediaType, StringComparison.OrdinalIgnoreCase) == true);
}
