using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Marten;
using Marten.Services;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Billing.ServiceDefaults.Messaging;

namespace Billing.IntegrationTests;

/// <summary>
/// The async daemon skips event-sequence gaps it judges dead. Under load the sequence has gaps of
/// two kinds: numbers of rolled-back transactions (dead, rightly skipped) and numbers of transactions
/// still running, whose events commit later (skipping those would lose them from the read model).
/// </summary>
public sealed class Projecting_usage_hours_under_load(Platform platform) : IClassFixture<Platform>
{
    private static readonly DateTimeOffset Hour = new(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);
    private const int Leases = 40, Minutes = 30, PerMessage = 10;

    [Fact]
    public async Task The_hourly_read_model_equals_a_fold_of_the_streams_after_concurrent_load_with_gaps()
    {
        var store = platform.Services.GetRequiredService<IDocumentStore>();
        var ledger = platform.Services.GetRequiredService<LedgerRouter>();
        var tenantId = $"load-{Guid.NewGuid():N}"[..21];
        var leaseIds = Enumerable.Range(0, Leases).Select(_ => Guid.NewGuid()).ToList();
        var usage = leaseIds.SelectMany(l => Enumerable.Range(0, Minutes).Select(m => Usage(l, tenantId, m))).ToList();
        var messages = usage.OrderBy(u => u.WindowStart).Chunk(PerMessage).Select(c => new UsageRecordedBatch(Guid.NewGuid(), c)).ToList();

        // The ledger stores the windows (every other message delivered twice) while other writers hold
        // sequence numbers: slow transactions that commit after the stale threshold, and rolled-back ones.
        var slow = Enumerable.Range(0, 4).Select(i => AppendInTransactionAsync(store, Usage(Guid.NewGuid(), tenantId, i), TimeSpan.FromSeconds(4), commit: true));
        var rolledBack = Enumerable.Range(0, 8).Select(i => AppendInTransactionAsync(store, Usage(Guid.NewGuid(), tenantId, i), TimeSpan.FromMilliseconds(100 * i), commit: false));
        var publishing = messages.Select((m, i) => i % 2 == 0 ? Task.WhenAll(ledger.SendAsync(m), ledger.SendAsync(m)) : ledger.SendAsync(m));
        await Task.WhenAll(slow.Concat(rolledBack).Concat(publishing));

        await PlatformClient.EventuallyAsync(() => WindowsOfAsync(store, tenantId), Leases * Minutes);
        await PlatformClient.EventuallyAsync(platform.BrokerIdleAsync, true);
        var lag = platform.Services.GetRequiredService<ProjectionLag>();
        await PlatformClient.EventuallyAsync(async () => (await lag.MeasureAsync(CancellationToken.None)).Sum(p => p.Events), 0L);

        await using var session = store.QuerySession();
        var events = await session.Events.QueryRawEventDataOnly<UsageRecorded>().Where(u => u.TenantId == tenantId).ToListAsync();
        var folded = events.GroupBy(UsageHour.IdFor).Select(g => (g.Key, g.Sum(u => u.GpuSeconds), g.Count())).Order().ToList();
        var projected = (await session.Query<UsageHour>().Where(h => h.TenantId == tenantId).ToListAsync()).Select(h => (h.Id, h.GpuSeconds, h.Windows)).Order().ToList();
        Assert.Equal(Leases * Minutes + 4, events.Count);
        Assert.Equal(folded, projected);
        Assert.True(await GapsAsync(store) > 0, "no sequence gap was left; the test proved nothing");
    }

    private static UsageRecorded Usage(Guid leaseId, string tenantId, int minute) =>
        new(DeterministicGuid.Create($"load:{leaseId:N}:{minute}"), leaseId, tenantId, "node-load", "H100-SXM-80GB", PricingModel.OnDemand,
            Hour.AddMinutes(minute), 60m + minute, Hour.AddMinutes(minute + 1));

    /// <summary>Appends the usage in a transaction held open for <paramref name="hold"/> after its events took their sequence numbers.</summary>
    private async Task AppendInTransactionAsync(IDocumentStore store, UsageRecorded usage, TimeSpan hold, bool commit)
    {
        await using var connection = new NpgsqlConnection(platform.Services.GetRequiredService<IConfiguration>().GetConnectionString("Postgres"));
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var session = store.LightweightSession(SessionOptions.ForTransaction(transaction)))
        {
            session.Events.Append(usage.LeaseId, usage);
            await session.SaveChangesAsync();
        }

        await Task.Delay(hold);
        if (commit)
        {
            await transaction.CommitAsync();
        }
        else
        {
            await transaction.RollbackAsync();
        }
    }

    private static async Task<int> WindowsOfAsync(IDocumentStore store, string tenantId)
    {
        await using var session = store.QuerySession();
        return await session.Query<MeteredWindow>().CountAsync(w => w.TenantId == tenantId);
    }

    /// <summary>Sequence numbers below the newest event that no committed event holds.</summary>
    private static async Task<long> GapsAsync(IDocumentStore store)
    {
        await using var session = store.QuerySession();
        var table = $"{store.Options.Events.DatabaseSchemaName}.mt_events";
        return (await session.QueryAsync<long>($"select max(seq_id) - min(seq_id) + 1 - count(*) from {table}")).Single();
    }
}
