using System.Diagnostics.Metrics;
using Marten;
using Microsoft.Extensions.Caching.Memory;

namespace Billing.ServiceDefaults.Access;

/// <summary>
/// Issued keys by the hash of their secret, read through a short cache: a known key for
/// <see cref="ApiKeyAuthenticationOptions.CacheFor"/>, an unknown one for
/// <see cref="ApiKeyAuthenticationOptions.UnknownCacheFor"/>, so a flood of one garbage key costs
/// one database lookup, and concurrent requests with one key share the lookup in flight.
/// </summary>
public sealed class KnownKeys(IDocumentStore store, IMemoryCache cache, IMeterFactory meters)
{
    public const string MeterName = "Billing.Access";
    public const string LookupsInstrument = "billing.access.key_lookups";

    private readonly Counter<long> lookups = meters.Create(MeterName)
        .CreateCounter<long>(LookupsInstrument, description: "Key lookups that went to the database");

    /// <summary>The key with this hash, or null when none was issued. The cache entry is the hash itself, as revocation removes it.</summary>
    public async Task<ApiKey?> FindAsync(string hash, TimeSpan knownFor, TimeSpan unknownFor)
    {
        if (cache.TryGetValue(hash, out Task<ApiKey?>? cached) && cached is not null)
        {
            return await cached;
        }

        var lookup = LoadAsync(hash);
        Remember(hash, lookup, knownFor);
        try
        {
            var key = await lookup;
            if (key is null)
            {
                Remember(hash, lookup, unknownFor);
            }

            return key;
        }
        catch
        {
            // An outage is not an answer: the next request asks again.
            cache.Remove(hash);
            throw;
        }
    }

    private void Remember(string hash, Task<ApiKey?> lookup, TimeSpan expiresAfter)
    {
        using var entry = cache.CreateEntry(hash);
        entry.Value = lookup;
        entry.AbsoluteExpirationRelativeToNow = expiresAfter;
    }

    private async Task<ApiKey?> LoadAsync(string hash)
    {
        // Not the request's token: other requests may be waiting on this lookup.
        await using var session = store.QuerySession();
        lookups.Add(1);
        return await session.LoadAsync<ApiKey>(hash, CancellationToken.None);
    }
}
