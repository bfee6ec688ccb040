using System.Text.Json;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Billing.Ledger.Meters;

/// <summary>A version of the meter definitions, in force from <see cref="EffectiveAt"/> on.</summary>
public sealed record MetersChanged(IReadOnlyDictionary<string, Meter> Meters, DateTimeOffset EffectiveAt);

/// <summary>
/// At start, checks the configured meters and records them as a new version when they differ from
/// the one in force (as the price book is versioned): what was counted under which definition stays
/// on record.
/// </summary>
public sealed class MeterVersions(IDocumentStore store, IOptions<MeterOptions> configured, [FromKeyedServices(BillingClock.Key)] TimeProvider time) : IHostedService
{
    public static readonly Guid StreamId = DeterministicGuid.Create("meters");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var meters = configured.Value;
        if (meters.Problems().ToList() is { Count: > 0 } problems)
        {
            throw new InvalidOperationException($"{MeterOptions.Section} is invalid: {string.Join(" ", problems)}");
        }

        for (var attempt = 0; attempt < 3; attempt++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<MeterBook>(StreamId, cancellationToken);
            if (stream.Aggregate is { } latest && Same(latest.Version.Meters, meters.Definitions))
            {
                return;
            }

            stream.AppendOne(new MetersChanged(meters.Definitions, stream.Aggregate is null ? DateTimeOffset.UnixEpoch : time.GetUtcNow()));
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

    private static bool Same(IReadOnlyDictionary<string, Meter> recorded, Dictionary<string, Meter> configured) =>
        JsonSerializer.Serialize(recorded.OrderBy(m => m.Key, StringComparer.Ordinal)) == JsonSerializer.Serialize(configured.OrderBy(m => m.Key, StringComparer.Ordinal));

    /// <summary>The version in force and its number, read in the fetch that makes the append optimistic.</summary>
    public sealed record MeterBook(Guid Id, int Number, MetersChanged Version)
    {
        public static MeterBook Create(MetersChanged changed) => new(StreamId, 1, changed);

        public MeterBook Apply(MetersChanged changed) => this with { Number = Number + 1, Version = changed };
    }
}
