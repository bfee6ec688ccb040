using System.Text.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Billing.ServiceDefaults.Pricing;

/// <summary>
/// At start, records the configured price book as a new version when it differs from the one in
/// force, effective from the next minute: a change never reprices usage already metered.
/// </summary>
public sealed class PriceBookVersions(IDocumentStore store, IOptions<PriceBook> configured, [FromKeyedServices(BillingClock.Key)] TimeProvider time) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var book = configured.Value;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<LatestPriceBook>(StreamIds.PriceBook, cancellationToken);
            var latest = stream.Aggregate?.Version;
            if (latest is not null && Same(latest, book))
            {
                return;
            }

            var now = time.GetUtcNow();
            var nextMinute = TimeBuckets.StartOfMinute(now).AddMinutes(1);
            stream.AppendOne(new PriceBookChanged(book.Currency, book.MinorUnitDigits, book.Skus, latest is null ? DateTimeOffset.UnixEpoch : nextMinute, book.Meters));
            try
            {
                await session.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (Exception ex) when (WriteConflicts.IsConflict(ex))
            {
                // Another host recorded a version at the same moment: look again.
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool Same(PriceBookChanged version, PriceBook book) =>
        version.Currency == book.Currency && version.MinorUnitDigits == book.MinorUnitDigits &&
        JsonSerializer.Serialize(version.Skus.OrderBy(s => s.Key)) == JsonSerializer.Serialize(book.Skus.OrderBy(s => s.Key)) &&
        JsonSerializer.Serialize((version.Meters ?? new Dictionary<string, MeterPrices>()).OrderBy(m => m.Key)) == JsonSerializer.Serialize(book.Meters.OrderBy(m => m.Key));

    /// <summary>The version in force, read in the same fetch that makes the append optimistic.</summary>
    public sealed record LatestPriceBook(Guid Id, PriceBookChanged Version)
    {
        public static LatestPriceBook Create(PriceBookChanged changed) => new(StreamIds.PriceBook, changed);

        public LatestPriceBook Apply(PriceBookChanged changed) => this with { Version = changed };
    }
}
