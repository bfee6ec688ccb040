using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Ledger.Leases;
using Billing.Ledger.Usage;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Billing.ServiceDefaults.Messaging;

namespace Billing.IntegrationTests;

public sealed class Storing_usage_exactly_once(Platform platform) : IClassFixture<Platform>
{
    private static readonly DateTimeOffset Window = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private static UsageRecorded Usage(Guid leaseId, int minute, decimal gpuSeconds) =>
        new(Billing.ServiceDefaults.DeterministicGuid.Create($"usage:{leaseId:N}:{minute}"), leaseId, "tenant-x", "node-x", "H100-SXM-80GB",
            PricingModel.OnDemand, Window.AddMinutes(minute), gpuSeconds, Window.AddMinutes(minute + 1));

    private async Task<(int Events, int Windows, decimal GpuSeconds)> StoredAsync(Guid leaseId)
    {
        await using var session = platform.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = await session.Events.FetchStreamAsync(leaseId);
        var windows = await session.Query<MeteredWindow>().Where(w => w.LeaseId == leaseId).ToListAsync();
        return (events.Count, windows.Count, windows.Sum(w => w.GpuSeconds));
    }

    /// <summary>What is stored of the lease once it reached <paramref name="expected"/> and every message published was consumed.</summary>
    private async Task<(int, int, decimal)> SettledAsync(Guid leaseId, (int, int, decimal) expected)
    {
        await PlatformClient.EventuallyAsync(() => StoredAsync(leaseId), expected);
        await PlatformClient.EventuallyAsync(platform.BrokerIdleAsync, true);
        return await StoredAsync(leaseId);
    }

    [Fact]
    public async Task A_batch_delivered_twice_and_an_overlapping_one_are_stored_once()
    {
        var leaseId = Guid.NewGuid();
        var ledger = platform.Services.GetRequiredService<LedgerRouter>();
        var first = new UsageRecordedBatch(Guid.NewGuid(), [Usage(leaseId, 0, 480m), Usage(leaseId, 1, 480m)]);
        var overlapping = new UsageRecordedBatch(Guid.NewGuid(), [Usage(leaseId, 1, 480m), Usage(leaseId, 2, 120.5m)]);

        await ledger.SendAsync(first);
        await ledger.SendAsync(first);
        await ledger.SendAsync(overlapping);

        Assert.Equal((3, 3, 1080.5m), await SettledAsync(leaseId, (3, 3, 1080.5m)));
        await using var session = platform.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var hour = await session.LoadAsync<RatableHour>(RatableHour.IdFor((await session.Query<MeteredWindow>().FirstAsync(w => w.LeaseId == leaseId))));
        Assert.Equal([480m, 480m, 120.5m], hour!.GpuSeconds.Take(3));
    }

    [Fact]
    public async Task Ledgers_racing_on_one_tenant_hour_keep_every_window_in_its_hours_once()
    {
        var store = platform.Services.GetRequiredService<IDocumentStore>();
        var tenantId = $"racing-{Guid.NewGuid():N}";
        var windows = Enumerable.Range(0, 12)
            .Select(i => new MeteredWindow(Guid.NewGuid(), Guid.NewGuid(), tenantId, "H100-SXM-80GB", PricingModel.OnDemand, Window.AddMinutes(i % 3), 10m + i))
            .ToList();

        var dataSource = platform.Services.GetRequiredService<NpgsqlDataSource>();
        var conflicts = await Task.WhenAll(windows.Select(w => Task.Run(() => StoreRetryingAsync(store, dataSource, w))));

        await using var session = store.QuerySession();
        var hours = await session.Query<RatableHour>().Where(h => h.TenantId == tenantId).ToListAsync();
        var revision = await session.LoadAsync<UsageRevision>(UsageRevision.IdFor(tenantId, "2026-11"));
        var stored = await session.Query<MeteredWindow>().Where(w => w.TenantId == tenantId).ToListAsync();
        Assert.Equal(windows.Sum(w => w.GpuSeconds), hours.Sum(h => h.GpuSeconds.Sum()));
        Assert.Equal(12, revision!.Revision);
        Assert.Equal(Enumerable.Range(1, 12).Select(r => (long)r), stored.Select(w => w.Revision).Order());
        Assert.True(conflicts.Sum() > 0, "the writers never raced; the test proved nothing");
    }

    /// <summary>What a ledger's transaction does with one window, retried on a lost race as the consumer's retry policy does; returns the races lost.</summary>
    private static async Task<int> StoreRetryingAsync(IDocumentStore store, NpgsqlDataSource dataSource, MeteredWindow window)
    {
        for (var lost = 0; ; lost++)
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var session = store.LightweightSession(SessionOptions.ForTransaction(transaction, shouldAutoCommit: true));
            await UsageRollups.StoreAsync(session, connection, [window], CancellationToken.None);
            try
            {
                await session.SaveChangesAsync();
                return lost;
            }
            catch (Exception ex) when (Billing.ServiceDefaults.WriteConflicts.IsConflict(ex))
            {
            }
        }
    }

    [Fact]
    public async Task A_lease_transition_delivered_twice_is_stored_once()
    {
        var leaseId = Guid.NewGuid();
        var ledger = platform.Services.GetRequiredService<LedgerRouter>();
        var started = new LeaseStarted(leaseId, "tenant-x", "node-x", "H100-SXM-80GB", PricingModel.Spot, [0, 1], Window);

        await ledger.SendAsync(started);
        await ledger.SendAsync(started);
        await ledger.SendAsync(new LeaseEnded(leaseId, "tenant-x", "Ended", Window.AddHours(1)));

        await PlatformClient.EventuallyAsync(async () => (await StoredAsync(leaseId)).Events, 2);
        await PlatformClient.EventuallyAsync(platform.BrokerIdleAsync, true);
        await using var session = platform.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = await session.Events.FetchStreamAsync(leaseId);
        Assert.Equal([typeof(LeaseStarted), typeof(LeaseEnded)], events.Select(e => e.EventType));
        var markers = new[] { $"lease-started:{leaseId:N}", $"lease-ended:{leaseId:N}" }.Select(Billing.ServiceDefaults.DeterministicGuid.Create).ToArray();
        Assert.Equal(2, await session.Query<AppliedFact>().Where(f => f.Id.IsOneOf(markers)).CountAsync());
    }

    [Fact]
    public async Task A_lease_ended_right_after_its_last_usage_lands_after_it_in_the_stream()
    {
        var leaseIds = Enumerable.Range(0, 30).Select(_ => Guid.NewGuid()).ToList();
        var ledger = platform.Services.GetRequiredService<LedgerRouter>();

        // As lease grains do, many at once (one tenant, one partition; batches fill and split between them): each
        // window sent once the broker confirmed the one before, then the end at once.
        await Task.WhenAll(leaseIds.Select(async leaseId =>
        {
            await ledger.SendAsync(new LeaseStarted(leaseId, "tenant-x", "node-x", "H100-SXM-80GB", PricingModel.OnDemand, [0], Window));
            foreach (var minute in Enumerable.Range(0, 5))
            {
                await ledger.SendAsync(new UsageRecordedBatch(Guid.NewGuid(), [Usage(leaseId, minute, 60m)]));
            }

            await ledger.SendAsync(new LeaseEnded(leaseId, "tenant-x", "Ended", Window.AddMinutes(5)));
        }));

        await using var session = platform.Services.GetRequiredService<IDocumentStore>().QuerySession();
        foreach (var leaseId in leaseIds)
        {
            await PlatformClient.EventuallyAsync(async () => (await StoredAsync(leaseId)).Events, 7);
            var events = await session.Events.FetchStreamAsync(leaseId);
            Assert.Equal([typeof(LeaseStarted), .. Enumerable.Repeat(typeof(UsageRecorded), 5), typeof(LeaseEnded)], events.Select(e => e.EventType));
            Assert.Equal(Enumerable.Range(0, 5).Select(m => Window.AddMinutes(m)), events.Select(e => e.Data).OfType<UsageRecorded>().Select(u => u.WindowStart));
        }
    }
}
